package httpapi

import (
	"fmt"

	"github.com/trulience-token/trulience-token/internal/config"
)

// checkLifetime applies MAX_EXPIRE_AT to a request's expire_at (0: none
// asked) and returns the expire_at to send Trulience: the one asked, or,
// when none was asked and the cap is below Trulience's default lifetime,
// the cap, so a token never outlives it.
func (h *Handler) checkLifetime(expireAt int) (int, *Problem) {
	limit := h.cfg.ExpireAtCap()
	switch {
	case expireAt == 0 && limit < config.TrulienceDefaultLifetime:
		return limit, nil
	case expireAt <= limit:
		return expireAt, nil
	}
	return 0, invalid(fmt.Sprintf("expire_at must be from 60 to %d seconds: this endpoint caps token lifetime at %d seconds", limit, limit))
}
