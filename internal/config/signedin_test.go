package config

import (
	"strings"
	"testing"
)

func TestLoadSignedIn(t *testing.T) {
	c, err := Load(env(t, map[string]string{"AVATAR_CLAIM": " custom:avatars ", "MAX_EXPIRE_AT": "600"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.AvatarClaim != "custom:avatars" || c.MaxExpireAt != 600 || c.ExpireAtCap() != 600 {
		t.Errorf("AvatarClaim %q MaxExpireAt %d cap %d", c.AvatarClaim, c.MaxExpireAt, c.ExpireAtCap())
	}
	c, err = Load(env(t, nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.AvatarClaim != "" || c.MaxExpireAt != 0 || c.ExpireAtCap() != 3600 {
		t.Errorf("unset: AvatarClaim %q MaxExpireAt %d cap %d, want no claim and the 3600 limit", c.AvatarClaim, c.MaxExpireAt, c.ExpireAtCap())
	}
}

func TestParseMaxExpireAt(t *testing.T) {
	good := map[string]int{"": 0, "60": 60, " 600 ": 600, "3600": 3600}
	for v, want := range good {
		if got, err := ParseMaxExpireAt(v); err != nil || got != want {
			t.Errorf("ParseMaxExpireAt(%q) = %d, %v; want %d", v, got, err, want)
		}
	}
	for _, v := range []string{"59", "3601", "0", "-600", "10m", "600s", "6e2", "abc"} {
		if _, err := ParseMaxExpireAt(v); err == nil || !strings.Contains(err.Error(), "60 to 3600") {
			t.Errorf("ParseMaxExpireAt(%q): %v, want an error naming the range", v, err)
		}
	}
}

func TestParseAvatarClaim(t *testing.T) {
	for _, v := range []string{"", "avatars", "custom:avatars", "https://example.com/avatars", "app_metadata.avatars"} {
		if got, err := ParseAvatarClaim(v); err != nil || got != v {
			t.Errorf("ParseAvatarClaim(%q) = %q, %v", v, got, err)
		}
	}
	for _, v := range []string{"two words", "a,b", `"avatars"`, "avatars\x00", "avatär", strings.Repeat("a", 257)} {
		if _, err := ParseAvatarClaim(v); err == nil {
			t.Errorf("ParseAvatarClaim(%q) accepted", v)
		}
	}
}

func TestLoadSignedInErrorsJoinOthers(t *testing.T) {
	_, err := Load(env(t, map[string]string{"AVATAR_CLAIM": "a b", "MAX_EXPIRE_AT": "7200", "LOG_LEVEL": "loud"}))
	if err == nil {
		t.Fatal("Load accepted a bad AVATAR_CLAIM and MAX_EXPIRE_AT")
	}
	for _, name := range []string{"AVATAR_CLAIM:", "MAX_EXPIRE_AT:", "LOG_LEVEL:"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}
