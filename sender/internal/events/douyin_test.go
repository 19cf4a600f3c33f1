package events_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/events"
)

// verify_webhook: the challenge comes back as it came; nothing is stored.
func TestDouyinVerifyWebhook(t *testing.T) {
	t.Parallel()
	h := start(t, []events.App{douyinApp("")})
	body := `{"event":"verify_webhook","client_key":"","content":{"challenge":12345}}`
	a := h.do(h.douyin(dySecret, "", body))
	if a.status != http.StatusOK || a.body != `{"challenge":12345}` {
		t.Errorf("verify_webhook: %d %q, want 200 {\"challenge\":12345}", a.status, a.body)
	}
	if a := h.do(h.douyin("not-the-secret", "", body)); a.status != http.StatusUnauthorized || strings.Contains(a.body, "12345") {
		t.Errorf("unsigned verify_webhook: %d %q, want 401 without the challenge", a.status, a.body)
	}
	if a := h.do(h.douyin(dySecret, "", `{"event":"verify_webhook","content":{}}`)); a.status != http.StatusBadRequest {
		t.Errorf("verify_webhook without a challenge: %d %q, want 400", a.status, a.body)
	}
	if n := len(h.pending()); n != 0 {
		t.Errorf("a handshake stored %d events", n)
	}
}

// user_subscribe_action reaches the ledger: one-time and long-term
// accepts, both rejections; a re-send (same Msg-Id) counts once; content
// written as an object is read too.
func TestDouyinSubscribeAction(t *testing.T) {
	t.Parallel()
	h := start(t, []events.App{douyinApp("")})
	pushes := []struct {
		msgID string
		body  any
	}{
		{"m1", subscribeAction(dyUser, "MSG-ORDER", 1)},
		{"m1", subscribeAction(dyUser, "MSG-ORDER", 1)}, // re-sent
		{"m2", subscribeAction(dyUser, "MSG-ORDER", 1)},
		{"m3", subscribeAction(dyUser, "MSG-REMIND", 2)},
		{"m4", subscribeAction(dyUser, "MSG-PROMO", 1)},
		{"m5", subscribeAction(dyUser, "MSG-PROMO", 4)},
		{"m6", subscribeAction(dyUser, "MSG-REMIND", 3)},
		{"m7", map[string]any{"event": "user_subscribe_action", "from_user_id": dyUser,
			"content": map[string]any{"msg_id": "MSG-OBJ", "time": t0.Unix(), "subscribe_action": 1}}},
		{"m8", map[string]any{"event": "send_push_failed_event", "from_user_id": dyUser, "content": `{"msg_id":"x","reason":102}`}},
	}
	for i, p := range pushes {
		if a := h.do(h.douyin(dySecret, p.msgID, p.body)); a.status != http.StatusOK || a.body != "success" {
			t.Fatalf("push %d: %d %q", i, a.status, a.body)
		}
	}
	h.settled()
	order, remind, promo, obj := h.entry(dyAppName, dyUser, "MSG-ORDER"), h.entry(dyAppName, dyUser, "MSG-REMIND"),
		h.entry(dyAppName, dyUser, "MSG-PROMO"), h.entry(dyAppName, dyUser, "MSG-OBJ")
	if order.Credits != 2 || order.Source != consent.SourceAction {
		t.Errorf("MSG-ORDER: %+v, want 2 credits (m1 counted once)", order)
	}
	if !remind.Rejected || remind.LongTerm || remind.Accepts != 1 || remind.Rejects != 1 {
		t.Errorf("MSG-REMIND: %+v, want a long-term grant, then rejected", remind)
	}
	if !promo.Rejected || promo.Credits != 0 {
		t.Errorf("MSG-PROMO: %+v, want rejected", promo)
	}
	if obj.Credits != 1 {
		t.Errorf("content as an object: %+v", obj)
	}
}

// The webhook secret signs when it is configured (the app secret then
// does not); the app secret signs otherwise.
func TestDouyinSigner(t *testing.T) {
	t.Parallel()
	h := start(t, []events.App{douyinApp(dyHook)})
	if a := h.do(h.douyin(dyHook, "a", subscribeAction(dyUser, "T", 1))); a.status != http.StatusOK {
		t.Errorf("signed with the webhook secret: %d %q", a.status, a.body)
	}
	if a := h.do(h.douyin(dySecret, "b", subscribeAction(dyUser, "T", 1))); a.status != http.StatusUnauthorized {
		t.Errorf("signed with the app secret while a webhook secret is set: %d %q, want 401", a.status, a.body)
	}
}

func TestDouyinRefusals(t *testing.T) {
	t.Parallel()
	good := subscribeAction(dyUser, "MSG-ORDER", 1)
	tests := []struct {
		name   string
		req    func(h *harness) *http.Request
		status int
		reason string
	}{
		{"no signature", func(h *harness) *http.Request {
			r := h.douyin(dySecret, "x", good)
			r.Header.Del("X-Douyin-Signature")
			return r
		}, 401, "X-Douyin-Signature is required"},
		{"wrong secret", func(h *harness) *http.Request { return h.douyin("guess", "x", good) }, 401, "does not verify"},
		{"body changed after signing", func(h *harness) *http.Request {
			r := h.douyin(dySecret, "x", good)
			b, _ := json.Marshal(subscribeAction(dyUser, "MSG-ORDER", 2))
			r.Body, r.ContentLength = http.NoBody, 0
			r2, _ := http.NewRequest(http.MethodPost, r.URL.String(), strings.NewReader(string(b)))
			r2.Header = r.Header
			return r2
		}, 401, "does not verify"},
		{"malformed JSON", func(h *harness) *http.Request { return h.douyin(dySecret, "x", `{"event":`) }, 400, "malformed JSON"},
		{"no event", func(h *harness) *http.Request { return h.douyin(dySecret, "x", `{"from_user_id":"u"}`) }, 400, "event is missing"},
		{"another app", func(h *harness) *http.Request {
			b := subscribeAction(dyUser, "MSG-ORDER", 1)
			b["client_key"] = "tt-someone-else"
			return h.douyin(dySecret, "x", b)
		}, 400, "is not this app"},
		{"unknown action", func(h *harness) *http.Request {
			return h.douyin(dySecret, "x", subscribeAction(dyUser, "MSG-ORDER", 9))
		},
			400, "subscribe_action must be 0 to 4"},
		{"no user", func(h *harness) *http.Request { return h.douyin(dySecret, "x", subscribeAction("", "MSG-ORDER", 1)) },
			400, "from_user_id is missing"},
		{"no template", func(h *harness) *http.Request { return h.douyin(dySecret, "x", subscribeAction(dyUser, "", 1)) },
			400, "msg_id is missing"},
		{"content not an object", func(h *harness) *http.Request {
			return h.douyin(dySecret, "x", map[string]any{"event": "user_subscribe_action", "from_user_id": dyUser, "content": "[1]"})
		}, 400, "content must be a JSON object"},
		{"GET", func(h *harness) *http.Request {
			r, _ := http.NewRequest(http.MethodGet, h.url+"/v1/platform-events/"+dyAppName, nil)
			return r
		}, 405, "POST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, []events.App{douyinApp("")})
			a := h.do(tc.req(h))
			var e struct{ Error string }
			_ = json.Unmarshal([]byte(a.body), &e)
			if a.status != tc.status || !strings.Contains(e.Error, tc.reason) {
				t.Errorf("answer %d %s, want %d saying %q", a.status, a.body, tc.status, tc.reason)
			}
			time.Sleep(20 * time.Millisecond)
			if es := h.pending(); len(es) != 0 {
				t.Errorf("a refused push was stored: %+v", es)
			}
			if l := h.ledger(dyAppName); len(l) != 0 {
				t.Errorf("a refused push changed the ledger: %+v", l)
			}
		})
	}
}
