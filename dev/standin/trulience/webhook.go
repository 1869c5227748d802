package trulience

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Webhook event types, as Trulience names them.
const (
	EventConnect    = "session.connect"
	EventDisconnect = "session.disconnect"
)

// Webhook is where the stand-in reports avatar sessions, as Trulience does
// for an API key with a Webhook URL and Custom Headers
// (docs/trulience-api.md).
type Webhook struct {
	// URL receives each event as a JSON POST; empty sends nothing.
	URL string
	// Header and Value are the custom header sent with every event.
	Header, Value string
	// CustomerID is every event's customer_id.
	CustomerID int64
	// MaxSessionDuration, when set, is sent as max_session_duration
	// (whole seconds) on connect, and ends the session when it is up.
	MaxSessionDuration time.Duration
	// Faults change how events are delivered (for tests).
	Faults WebhookFaults
	// Timeout bounds one delivery; 0 means 10s.
	Timeout time.Duration
}

// WebhookFaults make deliveries misbehave the ways a webhook receiver must
// survive. The zero value delivers each event once, in order, at once.
type WebhookFaults struct {
	// Duplicate sends every event twice.
	Duplicate bool
	// Reorder holds a session's connect back and sends it after the
	// session's disconnect.
	Reorder bool
	// Late waits this long before each delivery.
	Late time.Duration
	// Drop is "connect", "disconnect" or "all": those events are never sent.
	Drop string
}

// ParseWebhookFaults reads a comma-separated list such as
// "duplicate,reorder,late=2s,drop=disconnect"; "" is no fault.
func ParseWebhookFaults(s string) (WebhookFaults, error) {
	var f WebhookFaults
	for part := range strings.SplitSeq(s, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch name {
		case "":
		case "duplicate":
			f.Duplicate = true
		case "reorder":
			f.Reorder = true
		case "late":
			d, err := time.ParseDuration(value)
			if err != nil || d < 0 {
				return f, fmt.Errorf("webhook faults: late=%q is not a duration", value)
			}
			f.Late = d
		case "drop":
			switch value {
			case "connect", "disconnect", "all":
				f.Drop = value
			default:
				return f, fmt.Errorf("webhook faults: drop=%q: want connect, disconnect or all", value)
			}
		default:
			return f, fmt.Errorf("webhook faults: unknown %q (duplicate, reorder, late=DURATION, drop=connect|disconnect|all)", part)
		}
	}
	return f, nil
}

// Event is one webhook call's JSON body.
type Event struct {
	EventType          string `json:"event_type"`
	CustomerID         int64  `json:"customer_id"`
	AvatarID           string `json:"avatar_id"`
	SessionID          string `json:"session_id"`
	Timestamp          string `json:"timestamp"`
	MaxSessionDuration int    `json:"max_session_duration,omitempty"`
}

// Delivery is one webhook call the stand-in made, with its outcome.
type Delivery struct {
	Event  Event
	Status int    // the receiver's status; 0 when no answer came
	Err    string // why no answer came
	At     time.Time
}

// timestampLayout is ISO 8601 in UTC with milliseconds.
const timestampLayout = "2006-01-02T15:04:05.000Z"

// SetWebhook configures (or, with the zero Webhook, turns off) the events
// of sessions that start from now on.
func (s *Server) SetWebhook(w Webhook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = w
}

// Deliveries returns a copy of every webhook call made so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// outbox sends one session's events, in the order the session made them
// unless the faults say otherwise. Each session has its own, so a late
// delivery holds back only its own session.
type outbox struct {
	s      *Server
	hook   Webhook
	events chan Event
	held   *Event // a connect held back by Reorder
}

// newOutbox starts the sender of one session's events; its channel is
// closed when the session has sent its last event.
func (s *Server) newOutbox(hook Webhook) *outbox {
	o := &outbox{s: s, hook: hook, events: make(chan Event, 2)}
	s.sending.Add(1)
	go func() {
		defer s.sending.Done()
		for ev := range o.events {
			o.handle(ev)
		}
		if o.held != nil {
			o.send(*o.held)
		}
	}()
	return o
}

func (o *outbox) handle(ev Event) {
	switch f := o.hook.Faults; {
	case f.Drop == "all" || f.Drop == "connect" && ev.EventType == EventConnect ||
		f.Drop == "disconnect" && ev.EventType == EventDisconnect:
		return
	case f.Reorder && ev.EventType == EventConnect:
		o.held = &ev
		return
	}
	o.send(ev)
	if o.held != nil {
		held := *o.held
		o.held = nil
		o.send(held)
	}
}

// send delivers ev (twice with Duplicate) after the Late delay.
func (o *outbox) send(ev Event) {
	if o.hook.URL == "" {
		return
	}
	n := 1
	if o.hook.Faults.Duplicate {
		n = 2
	}
	for range n {
		if o.hook.Faults.Late > 0 {
			select {
			case <-time.After(o.hook.Faults.Late):
			case <-o.s.closed:
				return
			}
		}
		o.s.deliver(o.hook, ev)
	}
}

// deliver POSTs ev to the webhook and records the outcome. Like Trulience's
// (undocumented) policy, as far as a receiver can rely on it: no retries.
func (s *Server) deliver(hook Webhook, ev Event) {
	body, _ := json.Marshal(ev)
	timeout := hook.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(s.base, timeout)
	defer cancel()
	d := Delivery{Event: ev, At: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Trulience-Webhook (local stand-in)")
		if hook.Header != "" {
			req.Header.Set(hook.Header, hook.Value)
		}
		var resp *http.Response
		if resp, err = s.webhookClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			d.Status = resp.StatusCode
		}
	}
	if err != nil {
		d.Err = err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			d.Err = "no answer within " + timeout.String()
		}
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
}
