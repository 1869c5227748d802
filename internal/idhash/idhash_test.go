package idhash

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
)

func TestSecret(t *testing.T) {
	read := func(context.Context) (string, error) { return "tru_live_k", nil }
	for _, tt := range []struct {
		s    Secret
		want string
	}{
		{Secret{Fixed: "fixed", Read: read}, "fixed"},
		{Secret{Read: read}, "tru_live_k"},
		{Secret{}, ""},
	} {
		if got, err := tt.s.Get(context.Background()); got != tt.want || err != nil {
			t.Errorf("Get() = %q, %v, want %q", got, err, tt.want)
		}
	}
	down := errors.New("down")
	if _, err := (Secret{Read: func(context.Context) (string, error) { return "", down }}).Get(context.Background()); !errors.Is(err, down) {
		t.Errorf("a failed read gave %v", err)
	}
}

func TestKey(t *testing.T) {
	// printf %s label | openssl dgst -sha256 -hmac secret
	if got := hex.EncodeToString(Key("secret", "label")); got != "ba326aae8116d82c9c95836e230c70539472301102a6594d22fbe519cd74b9ab" {
		t.Errorf("Key = %s, want HMAC-SHA256(secret, label)", got)
	}
	if string(Key("a", "x")) == string(Key("b", "x")) || string(Key("a", "x")) == string(Key("a", "y")) {
		t.Error("the key does not depend on both the secret and the label")
	}
}
