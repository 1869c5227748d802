package trulience

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const key = "tru_live_test"

func start(t *testing.T, keys map[string]Key) *Server {
	t.Helper()
	s, err := Start("", keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func post(t *testing.T, s *Server, apiKey, origin, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+TokenPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if apiKey != "" {
		req.Header.Set("x-api-key", apiKey)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestErrors(t *testing.T) {
	s := start(t, map[string]Key{
		key:               {},
		"tru_live_scoped": {NoScope: true},
		"tru_live_origin": {Origins: []string{"https://a.example"}},
		"tru_live_avatar": {Avatars: []string{"111"}},
	})
	tests := []struct {
		name, key, origin, body string
		want                    APIError
	}{
		{"missing key", "", "", `{"avatar_id":"1"}`, ErrInvalidKey},
		{"unknown key", "tru_live_nope", "", `{"avatar_id":"1"}`, ErrInvalidKey},
		{"no scope", "tru_live_scoped", "", `{"avatar_id":"1"}`, ErrScope},
		{"origin refused", "tru_live_origin", "https://b.example", `{"avatar_id":"1"}`, ErrOrigin},
		{"origin missing", "tru_live_origin", "", `{"avatar_id":"1"}`, ErrOrigin},
		{"avatar refused", "tru_live_avatar", "", `{"avatar_id":"222"}`, ErrAvatar},
		{"expire too short", key, "", `{"avatar_id":"1","expire_at":59}`, ErrExpireAt},
		{"expire too long", key, "", `{"avatar_id":"1","expire_at":3601}`, ErrExpireAt},
		{"expire not int", key, "", `{"avatar_id":"1","expire_at":"300"}`, ErrExpireAt},
		{"bad json", key, "", `{`, ErrBadRequest},
		{"numeric avatar", key, "", `{"avatar_id":1}`, ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, s, tt.key, tt.origin, tt.body)
			if resp.StatusCode != tt.want.Status || string(body) != string(tt.want.Body()) {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, tt.want.Status, tt.want.Body())
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	if len(s.Minted()) != 0 {
		t.Errorf("minted %d tokens on errors", len(s.Minted()))
	}
	if got, want := s.Calls(), len(tests); got != want {
		t.Errorf("Calls() = %d, want %d", got, want)
	}
	if string(ErrRateLimited.Body()) != `{"error":{"code":36,"message":"Too many requests. Please slow down."}}` {
		t.Errorf("429 body %s", ErrRateLimited.Body())
	}
}

func TestMint(t *testing.T) {
	s := start(t, map[string]Key{key: {Origins: []string{"https://a.example"}, Avatars: []string{"4386676996480451678"}}})
	tests := []struct {
		body string
		want int
	}{
		{`{"avatar_id":"4386676996480451678","expire_at":300}`, 300},
		{`{"avatar_id":"4386676996480451678"}`, 120},
		{`{"avatar_id":"4386676996480451678","expire_at":60}`, 60},
		{`{"avatar_id":"4386676996480451678","expire_at":3600}`, 3600},
	}
	for _, tt := range tests {
		resp, body := post(t, s, key, "https://a.example", tt.body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tt.body, resp.StatusCode, body)
		}
		var out struct {
			JWT       string `json:"jwt"`
			ExpiresIn int    `json:"expires_in"`
			AvatarID  string `json:"avatar_id"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatal(err)
		}
		if out.ExpiresIn != tt.want || out.AvatarID != "4386676996480451678" || !strings.HasPrefix(out.JWT, "eyJ") {
			t.Errorf("%s: got %s", tt.body, body)
		}
		c, err := s.Verify(out.JWT)
		if err != nil {
			t.Fatal(err)
		}
		if c.AvatarID != out.AvatarID || c.Expires-c.IssuedAt != int64(tt.want) || c.ID == "" {
			t.Errorf("claims %+v", c)
		}
		if !s.WasMinted(out.JWT) {
			t.Error("WasMinted = false for a minted JWT")
		}
	}
	if _, err := New(nil).Verify(s.Minted()[0].JWT); err == nil {
		t.Error("another server's secret verified the JWT")
	}
	r, _ := s.LastRequest()
	if r.Header.Get("x-api-key") != key || r.Method != "POST" || r.Path != TokenPath {
		t.Errorf("recorded %+v", r)
	}
	if s.Connections() != 1 {
		t.Errorf("Connections() = %d, want 1 (keep-alive)", s.Connections())
	}
}

func TestSetKeys(t *testing.T) {
	s := start(t, map[string]Key{"tru_live_old": {}})
	if resp, _ := post(t, s, "tru_live_old", "", `{"avatar_id":"1"}`); resp.StatusCode != 200 {
		t.Fatalf("old key: %d", resp.StatusCode)
	}
	s.SetKeys(map[string]Key{"tru_live_new": {}})
	if resp, _ := post(t, s, "tru_live_old", "", `{"avatar_id":"1"}`); resp.StatusCode != 401 {
		t.Errorf("old key after rotation: %d", resp.StatusCode)
	}
	if resp, _ := post(t, s, "tru_live_new", "", `{"avatar_id":"1"}`); resp.StatusCode != 200 {
		t.Errorf("new key: %d", resp.StatusCode)
	}
}

func TestFaults(t *testing.T) {
	s := start(t, map[string]Key{key: {}})
	s.Enqueue(
		Fault{Status: 429, Header: http.Header{"Retry-After": {"1"}}, Body: ErrRateLimited.Body()},
		ErrInternal.Fault(),
		Fault{Delay: 50 * time.Millisecond},
	)
	resp, body := post(t, s, key, "", `{"avatar_id":"1"}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" || string(body) != string(ErrRateLimited.Body()) {
		t.Errorf("first: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, body := post(t, s, key, "", `{"avatar_id":"1"}`); resp.StatusCode != 500 || !strings.Contains(string(body), `"code":45`) {
		t.Errorf("second: %d %s", resp.StatusCode, body)
	}
	start := time.Now()
	if resp, _ := post(t, s, key, "", `{"avatar_id":"1"}`); resp.StatusCode != 200 || time.Since(start) < 50*time.Millisecond {
		t.Errorf("delayed: %d after %v", resp.StatusCode, time.Since(start))
	}

	s.SetOverride(func(r Request) *Fault {
		if r.N%2 == 0 {
			return &Fault{Status: 503, Body: []byte("{}")}
		}
		return nil
	})
	codes := []int{}
	for range 2 {
		resp, _ := post(t, s, key, "", `{"avatar_id":"1"}`)
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != 503 || codes[1] != 200 { // requests 4 and 5
		t.Errorf("override codes %v", codes)
	}
	s.SetOverride(nil)

	broken := []struct {
		name string
		f    Fault
	}{
		{"cut", Fault{Status: 200, Body: []byte(`{"jwt":"eyJhbGciOiJIUzI1NiJ9.e30.x","expires_in":120,"avatar_id":"1"}`), Cut: true}},
		{"drop", Fault{Drop: true}},
		{"hang", Fault{Hang: true}},
	}
	for _, tt := range broken {
		t.Run(tt.name, func(t *testing.T) {
			s.Enqueue(tt.f)
			c := &http.Client{Timeout: 300 * time.Millisecond}
			req, _ := http.NewRequest("POST", s.URL+TokenPath, strings.NewReader(`{"avatar_id":"1"}`))
			req.Header.Set("x-api-key", key)
			resp, err := c.Do(req)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if err == nil {
				t.Fatal("no error from a broken answer")
			}
			if tt.name == "cut" && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("cut: %v", err)
			}
		})
	}

	s.Enqueue(Fault{Status: 200, Body: []byte(`{"ok":1}`), Trickle: 10 * time.Millisecond})
	start = time.Now()
	if _, body := post(t, s, key, "", `{}`); string(body) != `{"ok":1}` || time.Since(start) < 70*time.Millisecond {
		t.Errorf("trickle: %s after %v", body, time.Since(start))
	}
}

func TestNotFoundAndMethod(t *testing.T) {
	s := start(t, map[string]Key{key: {}})
	resp, err := http.Get(s.URL + TokenPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	resp, err = http.Post(s.URL+"/other", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("other path: %d", resp.StatusCode)
	}
}
