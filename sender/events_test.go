package sender_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
)

// The consent lifecycle end to end (issue 10): the mock pushes what WeChat
// pushes — popup answers, a template switched off in the settings, the
// result of each send — to the sender's /v1/platform-events/{app}, in each
// format and mode; the sender keeps its consent ledger from them and, in
// enforce mode, holds back what the user did not allow, without a
// platform call.

const (
	consApp    = "cons"
	consAppID  = "wxcons00000000001"
	consSecret = "consent-app-secret"
	pushToken  = "Tok3nForPushes"
	pushKey    = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	onceTmpl   = "tmpl-once" // one-time
	alice      = "o_consent_alice"
)

type consentWorld struct {
	t    *testing.T
	mock *mocktest.Mock
	s    *svc
	ctx  context.Context
}

func newConsentWorld(t *testing.T, format, mode string) *consentWorld {
	t.Helper()
	ctx := context.Background()
	m := startMock(t)
	if _, err := m.Control.AddApp(ctx, mockapi.App{Platform: "wechat", AppID: consAppID, Secret: consSecret,
		Users: []string{alice},
		Templates: []mockapi.Template{{TemplateID: onceTmpl, Title: "发货通知",
			Keywords: []string{"thing1", "time2", "character_string3"}, Type: mockapi.TemplateOneTime}}}); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, m.URL)
	ev := &config.Events{Token: pushToken}
	if mode != "plain" {
		ev.EncodingAESKey = pushKey
	}
	cfg.Apps = append(cfg.Apps, config.App{Name: consApp, Platform: "wechat", AppID: consAppID, Secret: consSecret,
		BaseURL: m.URL, Consent: config.ConsentEnforce, Events: ev})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := startService(t, m, cfg, nil)
	pc := &mockapi.PushConfig{URL: s.URL + "/v1/platform-events/" + consApp, Token: pushToken, Format: format, Mode: mode}
	if mode != "plain" {
		pc.EncodingAESKey = pushKey
	}
	res, err := m.Control.SetPush(ctx, "wechat", consAppID, pc)
	if err != nil {
		t.Fatal(err)
	}
	// The console's URL check against the sender.
	if res.Verify == nil || !res.Verify.Passed {
		t.Fatalf("the mock's handshake with the sender failed: %+v", res.Verify)
	}
	return &consentWorld{t: t, mock: m, s: s, ctx: ctx}
}

// popup answers a popup; the mock clock moves a second first, so each
// answer is a push of its own (the platform's key for re-sends is
// FromUserName and CreateTime).
func (w *consentWorld) popup(accept, reject []string) {
	w.t.Helper()
	if _, err := w.mock.Control.Advance(w.ctx, time.Second); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.mock.Control.AnswerPopup(w.ctx, mockapi.Popup{Platform: "wechat", AppID: consAppID, OpenID: alice,
		Accept: accept, Reject: reject}); err != nil {
		w.t.Fatal(err)
	}
}

type ledgerView struct {
	Consents []struct {
		TemplateID string `json:"template_id"`
		Credits    int    `json:"credits"`
		Rejected   bool   `json:"rejected"`
		Source     string `json:"source"`
		Accepts    int    `json:"accepts"`
		Rejects    int    `json:"rejects"`
		Allows     bool   `json:"allows"`
	} `json:"items"`
}

func (w *consentWorld) ledger() ledgerView {
	w.t.Helper()
	code, b := w.s.do(http.MethodGet, query("/v1/consents", "app", consApp, "user", alice), nil)
	if code != http.StatusOK {
		w.t.Fatalf("GET /v1/consents: %d %s", code, b)
	}
	var v ledgerView
	mustJSON(w.t, b, &v)
	return v
}

// waitLedger waits until the entry of onceTmpl satisfies ok.
func (w *consentWorld) waitLedger(what string, ok func(credits int, rejected bool, accepts, rejects int) bool) {
	w.t.Helper()
	var last ledgerView
	if err := eventually(20*time.Second, func() bool {
		last = w.ledger()
		for _, c := range last.Consents {
			if c.TemplateID == onceTmpl && ok(c.Credits, c.Rejected, c.Accepts, c.Rejects) {
				return true
			}
		}
		return false
	}); err != nil {
		w.t.Fatalf("the ledger never showed %s: %+v", what, last)
	}
}

func (w *consentWorld) sendOnce(marker string, sendAt ...time.Time) string {
	w.t.Helper()
	b := msg(consApp, alice, marker)
	b["template_id"] = onceTmpl
	if len(sendAt) > 0 {
		b["send_at"] = sendAt[0].Format(time.RFC3339Nano)
	}
	return w.s.send(b)
}

// sends counts the platform's subscribe sends to alice (answered with
// code, when given).
func (w *consentWorld) sends(code ...int) int {
	w.t.Helper()
	f := mockclient.RequestFilter{Platform: "wechat", Endpoint: "subscribe_send", AppID: consAppID, OpenID: alice, Limit: 1}
	if len(code) > 0 {
		f.ErrCode = &code[0]
	}
	r, err := w.mock.Control.Requests(w.ctx, f)
	if err != nil {
		w.t.Fatal(err)
	}
	return r.Total
}

func (w *consentWorld) heldBack(id string) {
	w.t.Helper()
	m := w.s.wait(id, message.StatusRejected, 20*time.Second)
	if m.Reason != message.ReasonNotSubscribed || m.LastCode != string(message.ReasonNotSubscribed) || len(m.Attempts) != 1 ||
		m.Attempts[0].Outcome != message.OutcomeRejected {
		w.t.Errorf("held-back message %+v, want rejected with reason not_subscribed", m)
	}
}

func (w *consentWorld) metric(name string, labels ...string) float64 {
	w.t.Helper()
	code, b := w.s.do(http.MethodGet, "/metrics", nil)
	if code != http.StatusOK {
		w.t.Fatalf("GET /metrics: %d", code)
	}
	v, _ := metric(string(b), name, labels...)
	return v
}

func TestConsentLifecycle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ format, mode, corrupt string }{
		{"xml", "plain", "signature"},
		{"json", "plain", "timestamp"},
		{"xml", "compatible", "encryption"},
		{"json", "compatible", "msg_signature"},
		{"xml", "safe", "appid"},
		{"json", "safe", "signature"},
	} {
		t.Run(tc.format+"/"+tc.mode, func(t *testing.T) {
			t.Parallel()
			w := newConsentWorld(t, tc.format, tc.mode)
			app := `app="` + consApp + `"`

			// Three one-time credits from three popup answers: three
			// sends deliver, the fourth is held back without a call.
			for range 3 {
				w.popup([]string{onceTmpl}, nil)
			}
			w.waitLedger("3 credits", func(c int, r bool, _, _ int) bool { return c == 3 && !r })
			for i := range 3 {
				m := w.s.wait(w.sendOnce(fmt.Sprint("ok-", i)), message.StatusDelivered, 20*time.Second)
				if m.PlatformMsgID == "" {
					t.Fatalf("delivered without a msgid: %+v", m)
				}
			}
			w.heldBack(w.sendOnce("fourth"))
			if n, refused := w.sends(0), w.sends(43101); n != 3 || refused != 0 {
				t.Errorf("the platform accepted %d sends to alice and refused %d with 43101, want 3 and none (the fourth held back)", n, refused)
			}
			// Each delivered message carries the platform's receipt.
			code, b := w.s.do(http.MethodGet, query("/v1/messages", "app", consApp, "status", "delivered"), nil)
			if code != http.StatusOK {
				t.Fatalf("list: %d %s", code, b)
			}
			var page struct {
				Messages []message.Message `json:"items"`
			}
			mustJSON(t, b, &page)
			for _, m := range page.Messages {
				id := m.ID
				if err := eventually(20*time.Second, func() bool {
					r := w.s.get(id).Receipt
					return r != nil && r.Status == message.ReceiptDelivered && r.ErrorCode == "0"
				}); err != nil {
					t.Errorf("message %s: no delivered receipt: %+v", id, w.s.get(id).Receipt)
				}
			}

			// A re-accept resumes; a failed receipt shows on its message.
			addFault(t, w.mock, mockapi.Fault{Endpoint: "push_sent_event", ErrCode: ptr(10001), Times: 1})
			w.popup([]string{onceTmpl}, nil)
			w.waitLedger("a new credit", func(c int, r bool, _, _ int) bool { return c == 1 })
			id := w.sendOnce("resumed")
			w.s.wait(id, message.StatusDelivered, 20*time.Second)
			if err := eventually(20*time.Second, func() bool {
				r := w.s.get(id).Receipt
				return r != nil && r.Status == message.ReceiptFailed && r.ErrorCode == "10001"
			}); err != nil {
				t.Errorf("no failed receipt: %+v", w.s.get(id))
			}
			code, b = w.s.do(http.MethodGet, query("/v1/messages", "app", consApp, "receipt", "failed"), nil)
			mustJSON(t, b, &page)
			if code != http.StatusOK || len(page.Messages) != 1 || page.Messages[0].ID != id {
				t.Errorf("GET /v1/messages?receipt=failed: %d %s, want the one message", code, b)
			}

			// A rejection in the settings: queued messages end
			// not_subscribed when their turn comes, without a call.
			w.popup([]string{onceTmpl}, nil)
			w.waitLedger("another credit", func(c int, r bool, _, _ int) bool { return c == 1 })
			due := time.Now().Add(5 * time.Second)
			queued := []string{w.sendOnce("queued-1", due), w.sendOnce("queued-2", due)}
			before := w.sends()
			if err := w.mock.Control.Revoke(w.ctx, "wechat", consAppID, alice, onceTmpl); err != nil {
				t.Fatal(err)
			}
			w.waitLedger("the rejection", func(c int, r bool, _, _ int) bool { return r && c == 0 })
			if time.Now().After(due) {
				t.Fatalf("the settings' rejection took longer than the messages' wait: the test proves nothing")
			}
			for _, id := range queued {
				w.heldBack(id)
			}
			if n := w.sends(); n != before {
				t.Errorf("%d sends after the rejection, want none", n-before)
			}
			w.heldBack(w.sendOnce("after-rejection"))

			// A re-accept resumes after the rejection.
			w.popup([]string{onceTmpl}, nil)
			w.waitLedger("the re-accept", func(c int, r bool, _, _ int) bool { return !r && c == 1 })
			w.s.wait(w.sendOnce("re-accepted"), message.StatusDelivered, 20*time.Second)

			// A forged push changes nothing: the mock spoils every
			// attempt of the next push on purpose; the sender refuses
			// each, and the ledger stays as it was.
			was := w.ledger()
			faultID, err := w.mock.Control.AddFault(w.ctx, mockapi.Fault{Platform: "wechat", Endpoint: "push", Corrupt: tc.corrupt})
			if err != nil {
				t.Fatal(err)
			}
			w.popup([]string{onceTmpl}, nil)
			got, err := w.mock.Control.Pushes(w.ctx, mockclient.PushFilter{Platform: "wechat", AppID: consAppID,
				Event: "subscribe_msg_popup_event", Outcome: mockapi.PushFailed, Wait: 30 * time.Second})
			if err != nil || got.Total == 0 {
				t.Fatalf("the spoiled push did not fail: %+v %v", got, err)
			}
			attempts, _ := w.mock.Control.Pushes(w.ctx, mockclient.PushFilter{Platform: "wechat", AppID: consAppID, ID: got.Pushes[0].ID})
			for _, a := range attempts.Pushes {
				if a.Status != http.StatusUnauthorized && a.Status != http.StatusBadRequest {
					t.Errorf("a %s-spoiled attempt was answered %d %q, want 400/401", tc.corrupt, a.Status, a.Answer)
				}
			}
			if err := w.mock.Control.DeleteFault(w.ctx, faultID); err != nil {
				t.Fatal(err)
			}
			if now := w.ledger(); fmt.Sprint(now) != fmt.Sprint(was) {
				t.Errorf("a forged push changed the ledger:\n was %+v\n now %+v", was, now)
			}

			// What the metrics counted.
			if v := w.metric("minipush_consent_changes_total", app, `kind="accept"`); v < 6 {
				t.Errorf("accepts counted %v, want 6", v)
			}
			if v := w.metric("minipush_consent_changes_total", app, `kind="reject"`); v != 1 {
				t.Errorf("rejects counted %v, want 1", v)
			}
			if v := w.metric("minipush_consent_held_total", app, `mode="enforce"`); v != 4 {
				t.Errorf("held-back sends counted %v, want 4", v)
			}
			if v := w.metric("minipush_receipts_total", app, `status="failed"`); v != 1 {
				t.Errorf("failed receipts counted %v, want 1", v)
			}
			if v := w.metric("minipush_platform_events_total", app, `outcome="refused"`); v < 1 {
				t.Errorf("refused pushes counted %v, want some", v)
			}
		})
	}
}

// In observe mode (the default) the ledger is kept and counts what enforce
// would hold back, and every message is sent as before: the platform's
// 43101 fails it, and the ledger learns from that answer.
func TestConsentObserve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := startMock(t)
	cfg := testConfig(t, m.URL)
	cfg.Apps[0].Events = &config.Events{Token: pushToken}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := startService(t, m, cfg, nil)
	if res, err := m.Control.SetPush(ctx, "wechat", shopAppID, &mockapi.PushConfig{URL: s.URL + "/v1/platform-events/" + shopApp,
		Token: pushToken, Format: "json"}); err != nil || !res.Verify.Passed {
		t.Fatalf("set push: %+v %v", res, err)
	}
	// users[0] switches the long-term template off in the settings.
	if err := m.Control.Revoke(ctx, "wechat", shopAppID, users[0], tmpl); err != nil {
		t.Fatal(err)
	}
	if err := eventually(20*time.Second, func() bool {
		_, b := s.do(http.MethodGet, query("/v1/consents", "app", shopApp, "user", users[0]), nil)
		return strings.Contains(string(b), `"rejected":true`)
	}); err != nil {
		t.Fatal("the settings' rejection never reached the ledger")
	}
	got := s.wait(s.send(msg(shopApp, users[0], "observed")), message.StatusFailed, 20*time.Second)
	if got.LastCode != "43101" || got.Reason != message.ReasonNotSubscribed {
		t.Errorf("observe mode: %+v, want sent and failed 43101 with reason not_subscribed", got)
	}
	// A never-heard-of user: the 43101 teaches the ledger.
	s.wait(s.send(msg(shopApp, noGrant, "unknown")), message.StatusFailed, 20*time.Second)
	_, b := s.do(http.MethodGet, query("/v1/consents", "app", shopApp, "user", noGrant), nil)
	if !strings.Contains(string(b), `"source":"platform"`) {
		t.Errorf("the ledger did not learn from 43101: %s", b)
	}
	_, mb := s.do(http.MethodGet, "/metrics", nil)
	if v, _ := metric(string(mb), "minipush_consent_held_total", `app="shop"`, `mode="observe"`, `reason="rejected"`); v != 1 {
		t.Errorf("observe counted %v would-be holds, want 1", v)
	}
	if v, _ := metric(string(mb), "minipush_consent_learned_total", `app="shop"`); v != 2 {
		t.Errorf("learned %v not-subscribed answers, want 2", v)
	}
}

// A push for an app without events, or to an unknown app, is not served;
// the endpoint needs no API key (the platform has none), and the API
// still does.
func TestPlatformEventsRouting(t *testing.T) {
	t.Parallel()
	m := startMock(t)
	cfg := testConfig(t, m.URL)
	cfg.Apps[0].Events = &config.Events{Token: pushToken}
	s := startService(t, m, cfg, nil)
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/v1/platform-events/" + clubApp + "?signature=x&timestamp=1&nonce=1", http.StatusNotFound}, // no events configured
		{"/v1/platform-events/nope?signature=x&timestamp=1&nonce=1", http.StatusNotFound},
		{"/v1/platform-events/" + shopApp + "?signature=x&timestamp=1&nonce=1", http.StatusUnauthorized}, // reached, bad signature
	} {
		code, b := s.doKey(http.MethodPost, tc.path, "", "<xml/>")
		if code != tc.want {
			t.Errorf("POST %s without an API key: %d %s, want %d", tc.path, code, b, tc.want)
		}
	}
	if code, _ := s.doKey(http.MethodGet, query("/v1/consents", "app", shopApp), "", nil); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/consents without an API key: %d, want 401", code)
	}
}
