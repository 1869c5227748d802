package bench

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// siteverify answers Turnstile's siteverify for the bench: form or JSON
// requests, the documented answer fields; the test secret TurnstileSecret
// passes the dummy token TurnstileToken with hostname example.com, as
// Cloudflare's test keys do. Anything else fails. (The bench checks speed,
// not the bot check's rules.)
func siteverify(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Secret   string `json:"secret"`
		Response string `json:"response"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in)
	} else if r.ParseForm() == nil {
		in.Secret, in.Response = r.PostForm.Get("secret"), r.PostForm.Get("response")
	}
	out := map[string]any{"success": false, "error-codes": []string{}, "hostname": TurnstileHostname, "action": "", "cdata": ""}
	switch {
	case in.Secret != TurnstileSecret:
		out["error-codes"] = []string{"invalid-input-secret"}
	case in.Response != TurnstileToken:
		out["error-codes"] = []string{"invalid-input-response"}
	default:
		out["success"] = true
		out["challenge_ts"] = time.Now().UTC().Format(time.RFC3339)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
