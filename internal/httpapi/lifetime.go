package httpapi

import "fmt"

// checkLifetime applies MAX_EXPIRE_AT to a request's expire_at (0: none
// asked, Trulience's default lifetime applies, not the cap).
func (h *Handler) checkLifetime(expireAt int) *Problem {
	limit := h.cfg.ExpireAtCap()
	if expireAt == 0 || expireAt <= limit {
		return nil
	}
	return invalid(fmt.Sprintf("expire_at must be from 60 to %d seconds: this endpoint caps token lifetime at %d seconds", limit, limit))
}
