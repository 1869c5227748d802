package trulience

import (
	"encoding/json"
	"net/http"
)

// APIError is one error answer of the Trulience API: an HTTP status with the
// numeric code and message of its body {"error":{"code":…,"message":…}}.
type APIError struct {
	Status  int
	Code    int
	Message string
}

// The errors listed in the Trulience API reference, with their exact messages.
var (
	ErrExpireAt    = APIError{http.StatusBadRequest, 19, "expire_at must be between 60 and 3600 seconds"}
	ErrInvalidKey  = APIError{http.StatusUnauthorized, 16, "Invalid API Key"}
	ErrScope       = APIError{http.StatusForbidden, 34, "API key lacks required scope"}
	ErrAvatar      = APIError{http.StatusForbidden, 33, "API key is not authorized for this avatar"}
	ErrOrigin      = APIError{http.StatusForbidden, 35, "Origin is not allowed for this API key"}
	ErrRateLimited = APIError{http.StatusTooManyRequests, 36, "Too many requests. Please slow down."}
	ErrInternal    = APIError{http.StatusInternalServerError, 45, "Internal server error occurred"}
	// ErrBadRequest is not in the reference (it documents no code for a
	// malformed body); the stand-in answers it when the JSON body cannot be
	// read or avatar_id is missing or not a string.
	ErrBadRequest = APIError{http.StatusBadRequest, 10, "Invalid request body"}
)

// Body is the JSON body Trulience sends with this error.
func (e APIError) Body() []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": e.Code, "message": e.Message}})
	return b
}

// Fault turns the error into a canned answer for Enqueue or an override.
func (e APIError) Fault() Fault {
	return Fault{Status: e.Status, Body: e.Body()}
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
