// Package trulience is a local stand-in for the Trulience API's token endpoint
// (POST /auth/generate-token), faithful to the facts in
// docs/trulience-api.md: the same request shape, the same error
// codes and messages, and realistic HS256 JWTs.
//
// It records every request and every minted token so tests can assert what
// the function sent and whether Trulience was called at all, and it accepts
// injected faults (canned answers, delays, hangs, broken connections) to
// exercise the function's retry and timeout paths.
//
// It also serves the avatar page the site's iframe opens
// (/avatar/<id>?token=<jwt>): redeeming a token it minted starts a session
// that lasts while the page is open, and with a Webhook set it reports each
// session's start and end (session.connect, session.disconnect) as
// Trulience's webhook does, with faults (duplicates, reordering, delays,
// drops) for tests of the receiver.
package trulience
