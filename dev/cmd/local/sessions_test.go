package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

func TestSessionOptions(t *testing.T) {
	tests := []struct {
		flags sessionFlags
		want  *devstack.Sessions
		err   string
	}{
		{sessionFlags{}, nil, ""},
		{sessionFlags{on: true}, &devstack.Sessions{}, ""},
		{sessionFlags{maxLive: "1"}, &devstack.Sessions{MaxLive: "1"}, ""},
		{sessionFlags{dailyMinutes: "30", maxDuration: time.Minute}, &devstack.Sessions{DailyMinutes: "30", MaxSessionDuration: time.Minute}, ""},
		{sessionFlags{faults: "duplicate,drop=disconnect"}, &devstack.Sessions{Faults: trulience.WebhookFaults{Duplicate: true, Drop: "disconnect"}}, ""},
		{sessionFlags{faults: "twice"}, nil, "-webhook-faults"},
		{sessionFlags{maxDuration: -time.Second}, nil, "negative"},
	}
	for _, tt := range tests {
		var opts devstack.Options
		err := sessionOptions(&opts, tt.flags)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%+v: error %v, want one naming %s", tt.flags, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tt.flags, err)
			continue
		}
		if (opts.Sessions == nil) != (tt.want == nil) || opts.Sessions != nil && !reflect.DeepEqual(opts.Sessions, tt.want) {
			t.Errorf("%+v: got %+v, want %+v", tt.flags, opts.Sessions, tt.want)
		}
	}
}
