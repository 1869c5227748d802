package metrics

import (
	"encoding/json"
)

// The webhook function's metric names.
const (
	SessionsStarted = "SessionsStarted"
	SessionsEnded   = "SessionsEnded"
	// SessionSeconds holds each ended session's seconds (one value per
	// session ended by the call).
	SessionSeconds = "SessionSeconds"
	// LiveSessions is a gauge: the live sessions after the call.
	LiveSessions = "LiveSessions"
	// WebhookRejected is 1 for a refused call, also per Reason.
	WebhookRejected = "WebhookRejected"
)

// Webhook is what one webhook call's record reports. It holds no value
// from the call (session, avatar, customer), only counts and the outcome.
type Webhook struct {
	// Code is the error code of a refused call, "" otherwise.
	Code string
	// Started is the sessions started (0 or 1).
	Started int
	// Ended are the seconds of each session ended (by the event or the
	// sweep).
	Ended []int64
	// Live is the live sessions after the call; -1 when unknown.
	Live int
}

// RecordWebhook writes m's record.
func (w *Writer) RecordWebhook(m Webhook) {
	line := w.encodeWebhook(m)
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.w.Write(line)
}

func (w *Writer) encodeWebhook(m Webhook) []byte {
	rejected := 0
	code := m.Code
	if code != "" {
		rejected = 1
		if !codeOK(code) {
			code = "other"
		}
	}
	root := map[string]any{
		SessionsStarted: m.Started,
		SessionsEnded:   len(m.Ended),
		WebhookRejected: rejected,
	}
	plain := directive{Namespace: w.namespace, Dimensions: [][]string{{}}, Metrics: []metricDef{
		{Name: SessionsStarted, Unit: "Count"}, {Name: SessionsEnded, Unit: "Count"}, {Name: WebhookRejected, Unit: "Count"},
	}}
	if len(m.Ended) > 0 {
		root[SessionSeconds] = m.Ended[:min(len(m.Ended), 100)] // EMF's limit of values per metric
		plain.Metrics = append(plain.Metrics, metricDef{Name: SessionSeconds, Unit: "Seconds"})
	}
	if m.Live >= 0 {
		root[LiveSessions] = m.Live
		plain.Metrics = append(plain.Metrics, metricDef{Name: LiveSessions, Unit: "Count"})
	}
	directives := []directive{plain}
	if code != "" {
		root[Reason] = code
		directives = append(directives, directive{Namespace: w.namespace, Dimensions: [][]string{{Reason}}, Metrics: []metricDef{{Name: WebhookRejected, Unit: "Count"}}})
	}
	root["_aws"] = map[string]any{"Timestamp": w.now().UnixMilli(), "CloudWatchMetrics": directives}
	b, _ := json.Marshal(root)
	return append(b, '\n')
}
