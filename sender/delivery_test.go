package sender_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
)

// -1 (system busy) twice: retried with backoff, then delivered; the
// attempts show both failures and the success.
func TestRetryableErrcodeThenDelivered(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	cfg := testConfig(t, mock.URL)
	s := startService(t, mock, cfg, nil)
	addFault(t, mock, mockapi.Fault{Endpoint: "subscribe_send", ErrCode: ptr(-1), ErrMsg: "system error", Times: 2})

	id := s.send(msg(shopApp, users[0], "busy-twice"))
	m := s.wait(id, message.StatusDelivered, 10*time.Second)
	ss := sends(m)
	if len(ss) != 3 {
		t.Fatalf("%d sends %+v, want 3", len(ss), m.Attempts)
	}
	for i, a := range ss[:2] {
		if a.Outcome != message.OutcomeRetryable || a.Code != "-1" || a.Reason != "platform_unavailable" {
			t.Errorf("attempt %d: %+v, want retryable -1, platform_unavailable", i+1, a)
		}
	}
	if a := ss[2]; a.Outcome != message.OutcomeDelivered || a.Code != "0" {
		t.Errorf("attempt 3: %+v, want delivered", a)
	}
	// Backoff: base 50ms then 100ms, each jittered to at least half.
	// Attempt times are stored in milliseconds.
	for i, min := range []time.Duration{cfg.Delivery.BackoffBase / 2, cfg.Delivery.BackoffBase} {
		if gap := ss[i+1].At.Sub(ss[i].At); gap < min-time.Millisecond {
			t.Errorf("gap between attempts %d and %d = %v, want >= %v (backoff)", i+1, i+2, gap, min)
		}
	}
	if m.Retries != 2 || m.LastCode != "" || m.Reason != "" {
		t.Errorf("retries %d last_code %q reason %q, want 2 and none", m.Retries, m.LastCode, m.Reason)
	}
	if n := countMarker(inbox(t, mock, shopAppID, users[0], 1), "busy-twice"); n != 1 {
		t.Errorf("inbox holds the message %d times", n)
	}
}

// A permanent error (no grant: 43101) fails at once after one attempt; it
// is listed as a dead letter, and redriven after the user subscribes.
func TestPermanentFailureAndRedrive(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)
	ctx := context.Background()

	first := s.send(msg(shopApp, noGrant, "no-grant-1"))
	second := s.send(msg(shopApp, noGrant2, "no-grant-2"))
	delivered := s.send(msg(shopApp, users[0], "granted"))
	for _, id := range []string{first, second} {
		m := s.wait(id, message.StatusFailed, 10*time.Second)
		if ss := sends(m); len(ss) != 1 || ss[0].Outcome != message.OutcomePermanent || ss[0].Code != "43101" ||
			ss[0].Reason != "not_subscribed" {
			t.Fatalf("attempts %+v, want exactly one permanent 43101, not_subscribed", m.Attempts)
		}
		if m.LastCode != "43101" || m.LastError == "" || m.Retries != 0 || m.Reason != "not_subscribed" {
			t.Fatalf("message %+v, want last_code 43101, an error, reason not_subscribed, no retry spent", m)
		}
	}
	s.wait(delivered, message.StatusDelivered, 10*time.Second)
	// Exactly one send each: a permanent error is not retried.
	time.Sleep(300 * time.Millisecond)
	var calls int
	for _, r := range journal(t, mock, "subscribe_send", shopAppID) {
		if r.OpenID == noGrant || r.OpenID == noGrant2 {
			calls++
		}
	}
	if calls != 2 {
		t.Fatalf("%d sends to the users without a grant, want 2 (one each)", calls)
	}

	// The dead letters, one per page, newest first.
	type page struct {
		Messages   []message.Message `json:"items"`
		NextCursor string            `json:"next_cursor"`
	}
	var p1, p2 page
	code, b := s.do(http.MethodGet, query("/v1/messages", "status", "failed", "app", shopApp, "limit", "1"), nil)
	mustJSON(t, b, &p1)
	if code != http.StatusOK || len(p1.Messages) != 1 || p1.Messages[0].ID != second || p1.NextCursor == "" {
		t.Fatalf("page 1: %d %s, want %s and a next_cursor", code, b, second)
	}
	code, b = s.do(http.MethodGet, query("/v1/messages", "status", "failed", "app", shopApp, "limit", "1", "cursor", p1.NextCursor), nil)
	mustJSON(t, b, &p2)
	if code != http.StatusOK || len(p2.Messages) != 1 || p2.Messages[0].ID != first || p2.NextCursor != "" {
		t.Fatalf("page 2: %d %s, want %s and no next_cursor", code, b, first)
	}
	// Other filters see none.
	code, b = s.do(http.MethodGet, query("/v1/messages", "status", "failed", "app", clubApp), nil)
	if code != http.StatusOK || strings.Contains(string(b), `"id"`) {
		t.Fatalf("club's dead letters: %d %s, want none", code, b)
	}
	for name, path := range map[string]string{
		"bad status": query("/v1/messages", "status", "lost"),
		"bad app":    query("/v1/messages", "app", "nope"),
		"bad limit":  query("/v1/messages", "limit", "0"),
		"bad cursor": query("/v1/messages", "cursor", "not-a-cursor"),
	} {
		if code, b := s.do(http.MethodGet, path, nil); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400 (a bad query parameter)", name, code, b)
		}
	}

	// The user subscribes; the dead letter is redriven and delivered.
	if _, err := mock.Control.Grant(ctx, mockapi.Grant{Platform: "wechat", AppID: shopAppID, OpenID: noGrant,
		TemplateID: tmpl, Count: 1}); err != nil {
		t.Fatal(err)
	}
	code, b = s.do(http.MethodPost, "/v1/messages/"+first+"/retry", nil)
	var a accepted
	mustJSON(t, b, &a)
	if code != http.StatusAccepted || a.ID != first || a.Status != "queued" {
		t.Fatalf("retry: %d %s, want 202 queued", code, b)
	}
	m := s.wait(first, message.StatusDelivered, 10*time.Second)
	if ss := sends(m); len(ss) != 2 || ss[1].Code != "0" || m.Reason != "" {
		t.Fatalf("attempts after redrive %+v, want the failure then the delivery (reason cleared)", m.Attempts)
	}
	if n := countMarker(inbox(t, mock, shopAppID, noGrant, 1), "no-grant-1"); n != 1 {
		t.Fatalf("inbox holds the redriven message %d times", n)
	}
	// Only dead letters can be redriven.
	if code, b := s.do(http.MethodPost, "/v1/messages/"+first+"/retry", nil); code != http.StatusConflict {
		t.Fatalf("retry of a delivered message: %d %s, want 409", code, b)
	}
	if code, b := s.do(http.MethodPost, "/v1/messages/msg_nope/retry", nil); code != http.StatusNotFound {
		t.Fatalf("retry of an unknown message: %d %s, want 404", code, b)
	}
}

// A retryable error that never clears fails the message after
// Delivery.MaxAttempts attempts.
func TestMaxAttempts(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	cfg := testConfig(t, mock.URL)
	cfg.Delivery.MaxAttempts = 3
	s := startService(t, mock, cfg, nil)
	addFault(t, mock, mockapi.Fault{Endpoint: "subscribe_send", OpenID: users[1], ErrCode: ptr(-1), ErrMsg: "system error"})

	id := s.send(msg(shopApp, users[1], "busy-forever"))
	other := s.send(msg(shopApp, users[2], "unaffected"))
	m := s.wait(id, message.StatusFailed, 15*time.Second)
	if len(sends(m)) != cfg.Delivery.MaxAttempts || m.LastCode != "-1" || m.Reason != "platform_unavailable" {
		t.Fatalf("%d sends, last_code %q, reason %q, want %d and -1, platform_unavailable", len(sends(m)), m.LastCode, m.Reason,
			cfg.Delivery.MaxAttempts)
	}
	for _, a := range sends(m) {
		if a.Outcome != message.OutcomeRetryable {
			t.Errorf("attempt %+v, want retryable", a)
		}
	}
	s.wait(other, message.StatusDelivered, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if got := s.get(id); len(sends(got)) != cfg.Delivery.MaxAttempts || got.Status != message.StatusFailed {
		t.Fatalf("after failing: %d sends, status %s", len(sends(got)), got.Status)
	}
}

// Transport failures (a dropped connection, HTTP 502) are retried.
func TestTransportFaultsRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault mockapi.Fault
		code  string
	}{
		{"drop", mockapi.Fault{Endpoint: "subscribe_send", Drop: true, Times: 1}, "network"},
		{"http 502", mockapi.Fault{Endpoint: "subscribe_send", HTTPStatus: http.StatusBadGateway, Times: 1}, "http 502"},
		{"token 503", mockapi.Fault{Endpoint: "stable_token", HTTPStatus: http.StatusServiceUnavailable, Times: 1}, "http 503"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mock := startMock(t)
			s := startService(t, mock, testConfig(t, mock.URL), nil)
			addFault(t, mock, tc.fault)
			marker := "transport-" + strings.ReplaceAll(tc.name, " ", "-")
			id := s.send(msg(shopApp, users[0], marker))
			m := s.wait(id, message.StatusDelivered, 10*time.Second)
			// The one failed call (a send, or the token refresh a send
			// needed) is retryable with the fault's code; the last
			// attempt is the delivery.
			var failed []message.Attempt
			for _, a := range m.Attempts {
				if a.Outcome != message.OutcomeOK && a.Outcome != message.OutcomeDelivered {
					failed = append(failed, a)
				}
			}
			last := m.Attempts[len(m.Attempts)-1]
			if len(failed) != 1 || failed[0].Outcome != message.OutcomeRetryable || !strings.Contains(failed[0].Code, tc.code) ||
				last.Kind != message.KindSend || last.Outcome != message.OutcomeDelivered || len(sends(m)) > 2 {
				t.Fatalf("attempts %+v, want a retryable %s then the delivery", m.Attempts, tc.code)
			}
			if n := countMarker(inbox(t, mock, shopAppID, users[0], 1), marker); n != 1 {
				t.Fatalf("inbox holds the message %d times", n)
			}
		})
	}
}

// Throttling pauses the whole app: no other send of the app reaches the
// platform during the pause, other apps carry on, the retry budget is not
// spent and nothing is dropped.
func TestThrottlePausesApp(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	cfg := testConfig(t, mock.URL)
	// One worker: no send of the app can be in flight when the throttled
	// answer arrives, so the journal must show a clean gap.
	cfg.Delivery.Workers = 1
	// A pause long enough that the other app's send, queued 50 ms after
	// the throttle, reaches the platform inside it even on a loaded
	// machine (at 600 ms it missed the window at load 15).
	cfg.Delivery.ThrottleBackoff = 4 * time.Second
	s := startService(t, mock, cfg, nil)
	// Warm the token so the first send is not held up by the fetch.
	s.wait(s.send(msg(shopApp, users[5], "warm")), message.StatusDelivered, 10*time.Second)

	addFault(t, mock, mockapi.Fault{Endpoint: "subscribe_send", AppID: shopAppID, HTTPStatus: http.StatusTooManyRequests, Times: 1})
	// All six fall due together (one send_at), however slowly a loaded
	// machine accepts them: the one worker meets the 429 on the first of
	// shop's and must then send club's, the older due messages of the
	// paused app notwithstanding. (Posted as they came, club's arrived
	// after shop's pause had ended at load 22.)
	at := time.Now().Add(3 * time.Second).Format(time.RFC3339Nano)
	due := func(body map[string]any) map[string]any { body["send_at"] = at; return body }
	var ids []string
	for i := range 5 {
		ids = append(ids, s.send(due(msg(shopApp, users[i], fmt.Sprintf("throttled-%d", i)))))
	}
	// Another app's message, due with them: not held up.
	club := s.send(due(msg(clubApp, users[0], "other-app")))
	for _, id := range ids {
		s.wait(id, message.StatusDelivered, 15*time.Second)
	}
	s.wait(club, message.StatusDelivered, 15*time.Second)

	sends := journal(t, mock, "subscribe_send", shopAppID)
	var throttled time.Time
	var after []time.Time
	for _, r := range sends {
		switch {
		case r.Status == http.StatusTooManyRequests:
			throttled = r.Time
		case !throttled.IsZero():
			after = append(after, r.Time)
		}
	}
	if throttled.IsZero() || len(after) != 5 {
		t.Fatalf("journal: throttled at %v, %d sends after it; want one 429 and 5 sends", throttled, len(after))
	}
	minPause := cfg.Delivery.ThrottleBackoff / 2 // the pause is jittered to [d/2, d]
	if gap := after[0].Sub(throttled); gap < minPause {
		t.Fatalf("first send %v after the 429, want the app paused >= %v", gap, minPause)
	}
	t.Logf("app paused %v after the 429", after[0].Sub(throttled))
	clubSends := journal(t, mock, "subscribe_send", clubAppID)
	if len(clubSends) != 1 || !clubSends[0].Time.Before(after[0]) {
		t.Errorf("club's send at %v, shop resumed at %v: want club sent during shop's pause", clubSends, after[0])
	}
	var retried int
	for _, id := range ids {
		m := s.get(id)
		if m.Retries != 0 {
			t.Errorf("message %s spent %d retries on throttling", id, m.Retries)
		}
		if len(m.Attempts) == 2 {
			retried++
			if a := m.Attempts[0]; a.Outcome != message.OutcomeThrottled || a.Code != "http 429" {
				t.Errorf("attempt %+v, want throttled http 429", a)
			}
		}
	}
	if retried != 1 {
		t.Errorf("%d messages have two attempts, want exactly the throttled one", retried)
	}
}

// WeChat's 45009 is the daily quota: the whole app waits until the quota
// day ends (Beijing midnight, the wechat client's reading), without
// spending the message's retries, and no other message of the app is sent
// meanwhile. The platform's wait is a minimum: jitter must not shorten it.
func TestDailyQuotaPausesAppUntilMidnight(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)
	addFault(t, mock, mockapi.Fault{Endpoint: "subscribe_send", AppID: shopAppID, ErrCode: ptr(45009),
		ErrMsg: "reach max api daily quota limit", Times: 1})

	id := s.send(msg(shopApp, users[0], "quota"))
	var m message.Message
	if err := eventually(10*time.Second, func() bool { m = s.get(id); return len(sends(m)) > 0 }); err != nil {
		t.Fatalf("no attempt: %+v", m)
	}
	beijing := time.FixedZone("CST", 8*3600)
	now := sends(m)[0].At.In(beijing)
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, beijing)
	if m.Status != message.StatusRetrying || m.Retries != 0 || m.LastCode != "45009" || sends(m)[0].Outcome != message.OutcomeThrottled ||
		m.Reason != "quota_exceeded" {
		t.Fatalf("message %+v, want retrying, throttled 45009, quota_exceeded, no retry spent", m)
	}
	if m.NextAttemptAt.Before(midnight.Add(-time.Second)) {
		t.Fatalf("next attempt at %v, before the quota resets at %v", m.NextAttemptAt, midnight)
	}
	// Another message of the app waits too; another app is not held up.
	second := s.send(msg(shopApp, users[1], "quota-2"))
	club := s.send(msg(clubApp, users[1], "quota-other-app"))
	s.wait(club, message.StatusDelivered, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	if n := len(journal(t, mock, "subscribe_send", shopAppID)); n != 1 {
		t.Fatalf("%d sends of the paused app, want 1 (the throttled one)", n)
	}
	if m2 := s.get(second); m2.Status.Final() || len(m2.Attempts) != 0 {
		t.Fatalf("second message %+v, want waiting with no attempt", m2)
	}
}

// The access token expires mid-run (the mock's clock jumps past its 7200 s):
// the next send gets 42001, the client fetches once and resends. Nothing
// fails; exactly one extra token fetch.
func TestTokenExpiryMidRun(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	cfg := testConfig(t, mock.URL)
	// The mock's clock jump expires the token a moment after it was
	// fetched: under the refetch floor the broker would keep it.
	cfg.Tokens.RefetchFloor = 0
	s := startService(t, mock, cfg, nil)

	s.wait(s.send(msg(shopApp, users[0], "before-expiry")), message.StatusDelivered, 10*time.Second)
	if n := len(journal(t, mock, "stable_token", shopAppID)); n != 1 {
		t.Fatalf("%d token fetches before expiry, want 1", n)
	}
	if _, err := mock.Control.Advance(context.Background(), 7201*time.Second); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 5 {
		ids = append(ids, s.send(msg(shopApp, users[i], fmt.Sprintf("after-expiry-%d", i))))
	}
	// Each message is one send (the 42001 and the resend are inside it);
	// the one whose send hit 42001 lists the refresh it needed.
	refreshed := 0
	for _, id := range ids {
		m := s.wait(id, message.StatusDelivered, 10*time.Second)
		if len(sends(m)) != 1 {
			t.Errorf("message %s: attempts %+v, want one send (the token retry is inside it)", id, m.Attempts)
		}
		for _, a := range refreshes(m) {
			if a.Outcome != message.OutcomeOK {
				t.Errorf("message %s: refresh %+v, want ok", id, a)
			}
			refreshed++
		}
	}
	if refreshed != 1 {
		t.Errorf("%d token refreshes listed on the messages, want the one extra fetch", refreshed)
	}
	if n := len(journal(t, mock, "stable_token", shopAppID)); n != 2 {
		t.Fatalf("%d token fetches, want 2 (one extra after expiry)", n)
	}
	var expired int
	for _, r := range journal(t, mock, "subscribe_send", shopAppID) {
		if r.ErrCode == 42001 {
			expired++
		}
	}
	if expired < 1 {
		t.Fatalf("no send was answered 42001: the clock jump did not expire the token")
	}
	code, b := s.do(http.MethodGet, query("/v1/messages", "status", "failed"), nil)
	if code != http.StatusOK || strings.Contains(string(b), `"id"`) {
		t.Fatalf("failed messages: %s", b)
	}
}

// Rate shaping delays, never drops: 40 messages at 20/s take about 2 s.
func TestRatePerSecond(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	cfg := testConfig(t, mock.URL)
	cfg.Apps[0].Rate = config.Rate{PerSecond: 20}
	s := startService(t, mock, cfg, nil)

	const n = 40
	var ids []string
	for i := range n {
		ids = append(ids, s.send(msg(shopApp, users[i%len(users)], fmt.Sprintf("rate-%d", i))))
	}
	for _, id := range ids {
		s.wait(id, message.StatusDelivered, 20*time.Second)
	}
	sends := journal(t, mock, "subscribe_send", shopAppID)
	if len(sends) != n {
		t.Fatalf("%d sends, want %d", len(sends), n)
	}
	span := sends[n-1].Time.Sub(sends[0].Time)
	t.Logf("%d sends at 20/s spanned %v", n, span)
	if span < 1500*time.Millisecond {
		t.Fatalf("%d sends spanned %v, want >= 1.5s at 20/s", n, span)
	}
	// No one-second window holds more than the rate plus the burst.
	for i := range sends {
		j := i
		for j < len(sends) && sends[j].Time.Sub(sends[i].Time) < time.Second {
			j++
		}
		// Rate and burst, plus 3 for scheduling noise: the journal stamps
		// when a call ended, and on a loaded machine a send admitted
		// earlier can land late, next to its successors.
		if j-i > 20+2+3 {
			t.Fatalf("%d sends within one second from %v", j-i, sends[i].Time)
		}
	}
}

// The per-user interval spaces two messages to one user.
func TestRatePerUserInterval(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	cfg := testConfig(t, mock.URL)
	const interval = 500 * time.Millisecond
	cfg.Apps[0].Rate = config.Rate{PerUserInterval: interval}
	s := startService(t, mock, cfg, nil)
	s.wait(s.send(msg(shopApp, users[5], "warm-token")), message.StatusDelivered, 10*time.Second)

	// One send_at for the three: they fall due together, however slowly a
	// loaded machine accepts them one by one (at load 22 the other user's
	// POST came more than the interval after the first's).
	at := time.Now().Add(3 * time.Second).Format(time.RFC3339Nano)
	due := func(body map[string]any) map[string]any { body["send_at"] = at; return body }
	a := s.send(due(msg(shopApp, users[0], "per-user-a")))
	b := s.send(due(msg(shopApp, users[0], "per-user-b")))
	c := s.send(due(msg(shopApp, users[1], "per-user-other")))
	for _, id := range []string{a, b, c} {
		s.wait(id, message.StatusDelivered, 10*time.Second)
	}
	var times []time.Time
	var other time.Time
	for _, r := range journal(t, mock, "subscribe_send", shopAppID) {
		switch r.OpenID {
		case users[0]:
			// When the call reached the platform: the journal stamps its
			// end, and the two calls' own latencies differ.
			times = append(times, r.Time.Add(-time.Duration(r.LatencyMS*float64(time.Millisecond))))
		case users[1]:
			other = r.Time
		}
	}
	if len(times) != 2 {
		t.Fatalf("%d sends to the user, want 2", len(times))
	}
	gap := times[1].Sub(times[0])
	t.Logf("two sends to one user %v apart", gap)
	// The limiter spaces the admissions exactly (ratelimit's own tests);
	// here the calls are seen at the platform, after the scheduler and
	// the loopback: 100 ms covers a first call delayed on its way there
	// on a loaded machine (72 ms was seen at load 16).
	if gap < interval-100*time.Millisecond {
		t.Fatalf("two sends to one user %v apart, want >= %v", gap, interval)
	}
	if !other.Before(times[1]) {
		t.Errorf("another user's message waited for the interval (sent %v, second %v)", other, times[1])
	}
}

// With ContentCheck on, risky text is rejected with the platform's label
// before any send; clean text is delivered.
func TestContentCheck(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	ctx := context.Background()
	if err := mock.Control.SetContentRules(ctx, mockapi.ContentRules{
		Risky:  []mockapi.ContentWord{{Word: "contraband", Label: 20001}},
		Review: []mockapi.ContentWord{{Word: "lottery", Label: 21000}},
	}); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, mock.URL)
	cfg.Apps[0].ContentCheck = true
	s := startService(t, mock, cfg, nil)

	risky := msg(shopApp, users[0], "risky")
	risky["data"].(map[string]string)["thing1"] = "cheap contraband"
	review := msg(shopApp, users[1], "review")
	review["data"].(map[string]string)["thing1"] = "lottery results"
	rid, vid, cid := s.send(risky), s.send(review), s.send(msg(shopApp, users[2], "clean"))

	m := s.wait(rid, message.StatusRejected, 10*time.Second)
	if m.LastCode != "risky:20001" || len(m.Attempts) != 1 || m.Attempts[0].Outcome != message.OutcomeRejected {
		t.Fatalf("risky message %+v, want rejected with the label 20001", m)
	}
	s.wait(cid, message.StatusDelivered, 10*time.Second)
	s.wait(vid, message.StatusDelivered, 10*time.Second) // "review" is not risky
	if n := len(inbox(t, mock, shopAppID, users[0], 0)); n != 0 {
		t.Fatalf("the risky message reached the inbox")
	}
	checks := journal(t, mock, "msg_sec_check", shopAppID)
	if len(checks) != 3 {
		t.Fatalf("%d content checks, want 3", len(checks))
	}
	for _, r := range journal(t, mock, "subscribe_send", shopAppID) {
		if r.OpenID == users[0] {
			t.Fatalf("the risky message was sent")
		}
	}
	// A rejected message can be redriven (say, after the rule is fixed).
	if err := mock.Control.SetContentRules(ctx, mockapi.ContentRules{}); err != nil {
		t.Fatal(err)
	}
	if code, b := s.do(http.MethodPost, "/v1/messages/"+rid+"/retry", nil); code != http.StatusAccepted {
		t.Fatalf("retry: %d %s", code, b)
	}
	s.wait(rid, message.StatusDelivered, 10*time.Second)
}

// /metrics reports accepted, delivered, failed by code, retries, queue
// depth, token fetches and send latency after a run that had all of them.
func TestMetrics(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)
	addFault(t, mock, mockapi.Fault{Endpoint: "subscribe_send", OpenID: users[1], ErrCode: ptr(-1), Times: 1})

	ok := s.send(msg(shopApp, users[0], "metrics-ok"))
	retried := s.send(msg(shopApp, users[1], "metrics-retried"))
	failed := s.send(msg(shopApp, noGrant, "metrics-failed"))
	s.wait(ok, message.StatusDelivered, 10*time.Second)
	s.wait(retried, message.StatusDelivered, 10*time.Second)
	s.wait(failed, message.StatusFailed, 10*time.Second)

	code, b := s.doKey(http.MethodGet, "/metrics", "", nil)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	text := string(b)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"minipush_messages_accepted_total", []string{`app="shop"`}, 3},
		{"minipush_messages_delivered_total", []string{`app="shop"`, `platform="wechat"`}, 2},
		{"minipush_messages_failed_total", []string{`app="shop"`, `code="43101"`}, 1},
		{"minipush_send_retries_total", []string{`app="shop"`, `outcome="retryable"`}, 1},
		{"minipush_queue_depth", []string{`status="delivered"`}, 2},
		{"minipush_queue_depth", []string{`status="failed"`}, 1},
		{"minipush_queue_depth", []string{`status="queued"`}, 0},
		{"minipush_token_fetches_total", []string{`app="shop"`, `result="ok"`}, 1},
		{"minipush_send_latency_seconds_count", []string{`platform="wechat"`}, 4},
	} {
		got, found := metric(text, c.name, c.labels...)
		if !found || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, found, c.want)
		}
	}
	if _, found := metric(text, "minipush_send_latency_seconds_bucket"); !found {
		t.Errorf("no send latency histogram")
	}
}

// The access token is kept in storage: a restarted service on the same
// database sends without fetching a new one.
func TestTokenSurvivesRestart(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)

	s.wait(s.send(msg(shopApp, users[0], "before-restart")), message.StatusDelivered, 10*time.Second)
	if n := len(journal(t, mock, "stable_token", shopAppID)); n != 1 {
		t.Fatalf("%d token fetches, want 1", n)
	}
	s.restart()
	id := s.send(msg(shopApp, users[0], "after-restart"))
	s.wait(id, message.StatusDelivered, 10*time.Second)
	if n := len(journal(t, mock, "stable_token", shopAppID)); n != 1 {
		t.Fatalf("%d token fetches after the restart, want still 1", n)
	}
	// And the message from before the restart is still there.
	code, b := s.do(http.MethodGet, query("/v1/messages", "status", "delivered"), nil)
	if code != http.StatusOK || strings.Count(string(b), `"id"`) != 2 {
		t.Fatalf("delivered after restart: %d %s, want both messages", code, b)
	}
}
