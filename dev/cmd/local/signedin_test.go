package main

import (
	"strings"
	"testing"

	"github.com/trulience-token/trulience-token/dev/devstack"
)

func TestSignedInOptions(t *testing.T) {
	opts := devstack.Options{Env: map[string]string{}}
	if err := signedInOptions(&opts, true, "custom:avatars"); err != nil || !opts.SignedIn || opts.Env["AVATAR_CLAIM"] != "custom:avatars" {
		t.Errorf("-jwt -avatar-claim: %v, %+v", err, opts)
	}
	opts = devstack.Options{Env: map[string]string{}}
	if err := signedInOptions(&opts, false, ""); err != nil || opts.SignedIn || len(opts.Env) != 0 {
		t.Errorf("no flags: %v, %+v", err, opts)
	}
	if err := signedInOptions(&opts, false, "avatars"); err == nil || !strings.Contains(err.Error(), "-jwt") {
		t.Errorf("-avatar-claim without -jwt: %v", err)
	}
}
