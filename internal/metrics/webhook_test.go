package metrics

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestRecordWebhook(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, "Test")
	w.now = func() time.Time { return time.UnixMilli(1773482400000) }
	w.RecordWebhook(Webhook{Started: 1, Ended: []int64{90, 3600}, Live: 4})
	w.RecordWebhook(Webhook{Code: "unauthorized", Live: -1})
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	var ok, refused map[string]any
	_ = json.Unmarshal(lines[0], &ok)
	_ = json.Unmarshal(lines[1], &refused)
	if ok["SessionsStarted"] != 1.0 || ok["SessionsEnded"] != 2.0 || ok["LiveSessions"] != 4.0 || ok["WebhookRejected"] != 0.0 {
		t.Errorf("record %s", lines[0])
	}
	if s, _ := ok["SessionSeconds"].([]any); len(s) != 2 || s[1] != 3600.0 {
		t.Errorf("SessionSeconds %v", ok["SessionSeconds"])
	}
	if _, has := ok["Reason"]; has {
		t.Error("a Reason on a success")
	}
	if refused["WebhookRejected"] != 1.0 || refused["Reason"] != "unauthorized" {
		t.Errorf("record %s", lines[1])
	}
	for _, name := range []string{"LiveSessions", "SessionSeconds"} {
		if _, has := refused[name]; has {
			t.Errorf("%s without a value to report", name)
		}
	}
}
