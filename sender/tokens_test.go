package sender_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender/internal/message"
)

// The fifth defect: with use_stable_token: false, 30 % injected
// 40001s made every rejection a /cgi-bin/token fetch and burned the
// 2,000-a-day quota after ~8,000 messages. Now a token rejected within
// the refetch floor (30 s) of its fetch is kept, so the fetches are bounded
// by time, not by the number of messages — and every message is still
// delivered.
func TestTokenRefetchesBounded(t *testing.T) {
	t.Parallel()
	n := 600
	if raceEnabled {
		n = 200
	}
	mock := startMock(t)
	cfg := testConfig(t, mock.URL)
	legacy := false
	cfg.Apps[0].UseStableToken = &legacy // /cgi-bin/token, 2,000 a day
	cfg.Delivery.MaxAttempts = 8
	s := startService(t, mock, cfg, nil)
	addFault(t, mock, mockapi.Fault{Endpoint: "subscribe_send", AppID: shopAppID, ErrCode: ptr(40001),
		ErrMsg: "invalid credential, access_token is invalid or not latest", Probability: 0.3, Seed: 9})

	start := time.Now()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = s.send(msg(shopApp, users[i%len(users)], fmt.Sprintf("tok-%04d", i)))
	}
	for _, id := range ids {
		s.wait(id, message.StatusDelivered, time.Minute)
	}
	elapsed := time.Since(start)
	rejected := 0
	for _, r := range journal(t, mock, "subscribe_send", shopAppID) {
		if r.ErrCode == 40001 {
			rejected++
		}
	}
	fetches := len(journal(t, mock, "token", shopAppID))
	// One fetch at start, then at most one per floor.
	bound := 1 + int(elapsed/cfg.Tokens.RefetchFloor) + 1
	t.Logf("%d messages delivered in %v; %d sends rejected with 40001; %d /cgi-bin/token fetches (bound %d)",
		n, elapsed.Round(time.Millisecond), rejected, fetches, bound)
	if rejected < n/10 {
		t.Fatalf("only %d rejections: the fault did not fire", rejected)
	}
	if fetches > bound {
		t.Errorf("%d token fetches for %d rejections in %v, want at most %d (one per %v)", fetches, rejected, elapsed,
			bound, cfg.Tokens.RefetchFloor)
	}
}

// A wrong app secret (WeChat 40125 from the token endpoint) fails the
// message at once with the reason — no retries that would only call the
// token endpoint again — and marks the app unhealthy in /readyz and
// minipush_app_healthy, while the sender stays ready; the app is healthy
// again once a token fetch succeeds.
func TestCredentialsFailAtOnce(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)
	addFault(t, mock, mockapi.Fault{Endpoint: "stable_token", AppID: clubAppID, ErrCode: ptr(40125),
		ErrMsg: "invalid appsecret", Times: 1})

	id := s.send(msg(clubApp, users[0], "creds-1"))
	m := s.wait(id, "", 10*time.Second)
	// The token fetch was refused: that refresh is the one attempt (no
	// send was made).
	if m.Status != message.StatusFailed || len(m.Attempts) != 1 || m.Attempts[0].Outcome != message.OutcomeCredentials ||
		m.Attempts[0].Kind != message.KindTokenRefresh || m.Reason != "credentials_invalid" ||
		m.LastCode != "40125" || !strings.Contains(m.LastError, "credentials") {
		t.Fatalf("message with a refused secret: %s, %d attempts %+v, last %q %q; want failed at once (credentials, 40125)",
			m.Status, len(m.Attempts), m.Attempts, m.LastCode, m.LastError)
	}
	code, b := s.doKey(http.MethodGet, "/readyz", "", nil)
	var rd struct {
		Status string `json:"status"`
		Apps   map[string]struct {
			Healthy bool   `json:"healthy"`
			Reason  string `json:"reason"`
		} `json:"apps"`
	}
	mustJSON(t, b, &rd)
	if code != http.StatusOK || rd.Apps[clubApp].Healthy || !strings.Contains(rd.Apps[clubApp].Reason, "40125") ||
		!rd.Apps[shopApp].Healthy {
		t.Fatalf("/readyz after the refusal: %d %s; want ready, club unhealthy naming 40125, shop healthy", code, b)
	}
	_, b = s.doKey(http.MethodGet, "/metrics", "", nil)
	if v, ok := metric(string(b), "minipush_app_healthy", `app="club"`); !ok || v != 0 {
		t.Errorf("minipush_app_healthy{app=club} = %v (found %v), want 0", v, ok)
	}

	// The fault is spent: the next fetch succeeds and the app is healthy.
	time.Sleep(time.Second) // past the broker's memory of the failure
	s.wait(s.send(msg(clubApp, users[1], "creds-2")), message.StatusDelivered, 10*time.Second)
	_, b = s.doKey(http.MethodGet, "/readyz", "", nil)
	mustJSON(t, b, &rd)
	if !rd.Apps[clubApp].Healthy {
		t.Errorf("/readyz after a successful fetch: %s, want club healthy", b)
	}
	_, b = s.doKey(http.MethodGet, "/metrics", "", nil)
	if v, _ := metric(string(b), "minipush_app_healthy", `app="club"`); v != 1 {
		t.Errorf("minipush_app_healthy{app=club} = %v after recovery, want 1", v)
	}
	// The dead letter goes out when redriven.
	if code, b := s.do(http.MethodPost, "/v1/messages/"+id+"/retry", nil); code != http.StatusAccepted {
		t.Fatalf("redrive: %d %s", code, b)
	}
	s.wait(id, message.StatusDelivered, 10*time.Second)
}
