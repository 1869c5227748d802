package trulience

// peekResult is what a look at a connection's socket found, without waiting.
type peekResult int

const (
	peekUnknown peekResult = iota // could not look (not a socket)
	peekIdle                      // nothing to read: open and quiet
	peekClosed                    // end of stream or an error: closed by the peer
	peekData                      // bytes are waiting
)
