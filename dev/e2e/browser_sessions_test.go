package e2e

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/chromedp/chromedp"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// TestBrowserSessions runs the example site with the session ledger and a
// live-session cap of 1 (make local -sessions -max-live-sessions 1): the
// page's iframe opens the Trulience stand-in's avatar page, whose session
// reaches the ledger through the webhook function; a second page is
// refused with sessions_full; closing the first page ends the session in
// the ledger, and the second page then gets a token.
func TestBrowserSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not part of the quick loop (make test-short); make test runs it")
	}
	chromium := chromiumPath(t)
	dir, err := filepath.Abs(siteDir)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := devstack.ForTest(t, devstack.Options{SiteDir: dir, Sessions: &devstack.Sessions{MaxLive: "1"}})
	b := startBrowser(t, chromium)
	minted := func() int { return len(s.StandIn.Minted()) }

	// The first page, opened at the address make local prints.
	first := b.newTab(t)
	first.open(t, s.SiteURL+"/")
	if state := first.waitSettled(t); state != "ready" {
		t.Fatalf("first page: state %q, want ready; error on page: %q", state, first.text(t, "error-code"))
	}
	src := first.eval(t, `document.getElementById("avatar-frame").src`)
	if !strings.HasPrefix(src, s.StandIn.URL+trulience.AvatarPath+s.AvatarIDs[0]+"?token=") {
		t.Fatalf("iframe src %q, want the stand-in's avatar page", src)
	}
	var session trulience.Session
	if !waitFor(10*time.Second, func() bool {
		for _, ss := range s.StandIn.Sessions() {
			if ss.Live() {
				session = ss
				return true
			}
		}
		return false
	}) {
		t.Fatal("the avatar page started no session")
	}
	if !waitFor(10*time.Second, func() bool { return liveInLedger(t, s) == 1 }) {
		t.Fatalf("live sessions in the ledger: %d, want 1; deliveries %+v", liveInLedger(t, s), s.StandIn.Deliveries())
	}
	if state := sessionState(t, s, session.ID); state != "live" {
		t.Errorf("the ledger has session %s %q, want live", session.ID, state)
	}

	// A second page meets the cap.
	second := b.newTab(t)
	before := minted()
	second.open(t, s.SiteURL+"/")
	if state := second.waitSettled(t); state != "error" {
		t.Fatalf("second page: state %q, want error (sessions_full)", state)
	}
	if code, status := second.text(t, "error-code"), second.text(t, "error-status"); code != "sessions_full" || !strings.Contains(status, "429") {
		t.Errorf("second page: %q%s, want sessions_full · HTTP 429", code, status)
	}
	if minted() != before {
		t.Error("a token was minted while the sessions were full")
	}
	b.screenshot(t, second, "sessions-full.png", false)

	// Closing the first page ends its session, in the ledger too.
	if err := chromedp.Cancel(first.ctx); err != nil {
		t.Fatalf("close the first page: %v", err)
	}
	if !waitFor(10*time.Second, func() bool { return liveInLedger(t, s) == 0 }) {
		t.Fatalf("live sessions in the ledger after the page closed: %d, want 0; deliveries %+v", liveInLedger(t, s), s.StandIn.Deliveries())
	}
	if state := sessionState(t, s, session.ID); state != "ended" {
		t.Errorf("the ledger has session %s %q, want ended", session.ID, state)
	}
	for _, d := range s.StandIn.Deliveries() {
		if d.Status != 200 {
			t.Errorf("the webhook answered %s with %d %s", d.Event.EventType, d.Status, d.Err)
		}
	}

	// Now the second page gets a token, and its own session.
	second.click(t, "new-session")
	if state := second.waitSettled(t); state != "ready" {
		t.Fatalf("second page after the first closed: state %q, want ready; error: %q", state, second.text(t, "error-code"))
	}
	if minted()-before != 1 {
		t.Errorf("minted %d tokens, want 1", minted()-before)
	}
	if !waitFor(10*time.Second, func() bool { return liveInLedger(t, s) == 1 }) {
		t.Errorf("live sessions in the ledger: %d, want 1 (the second page's)", liveInLedger(t, s))
	}
}

// liveInLedger counts the live markers in the ledger whose time is not
// up, read from moto with the SDK.
func liveInLedger(t *testing.T, s *devstack.Stack) int {
	t.Helper()
	out, err := moto.DynamoDB(s.Moto.URL).Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(s.SessionsTable),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "live"}},
	})
	if err != nil {
		t.Fatalf("query the ledger: %v", err)
	}
	n := 0
	for _, it := range out.Items {
		if m, ok := it["max_end"].(*types.AttributeValueMemberN); ok {
			if end, _ := strconv.ParseInt(m.Value, 10, 64); end > time.Now().Unix() {
				n++
			}
		}
	}
	return n
}

// sessionState is the state of session id's item in the ledger ("" when
// there is none).
func sessionState(t *testing.T, s *devstack.Stack, id string) string {
	t.Helper()
	out, err := moto.DynamoDB(s.Moto.URL).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(s.SessionsTable),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "session#" + id},
			"sk": &types.AttributeValueMemberS{Value: "session"},
		},
	})
	if err != nil {
		t.Fatalf("read the ledger: %v", err)
	}
	if v, ok := out.Item["state"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
