package mockserver_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

// douyinSig is X-Douyin-Signature as the doc's Go sample computes it.
func douyinSig(secret string, body []byte) string {
	sum := sha1.Sum(append([]byte(secret), body...))
	return hex.EncodeToString(sum[:])
}

// douyinDev answers verify_webhook with its challenge and events with 200,
// refusing (401) anything whose signature does not verify with secret.
func douyinDev(t *testing.T, secret string) *devServer {
	return newDevServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.Header.Get("X-Douyin-Signature") != douyinSig(secret, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var v struct {
			Event   string          `json:"event"`
			Content json.RawMessage `json:"content"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if v.Event == "verify_webhook" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(append(append([]byte(`{"challenge":`), v.Content[len(`{"challenge":`):len(v.Content)-1]...), '}'))
			return
		}
		_, _ = io.WriteString(w, "success")
	})
}

func TestDouyinWebhookHandshake(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		token  string
		secret string // what the receiver verifies with
		signer string
		passed bool
	}{
		{"app secret signs by default", "", pushDySecret, "app_secret", true},
		{"token signs when set", "webhook-secret-1", "webhook-secret-1", "token", true},
		{"receiver with the wrong secret", "webhook-secret-1", pushDySecret, "token", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := startPushMock(t)
			d := douyinDev(t, tc.secret)
			res := setPush(t, m, "douyin", pushDyApp, &mockapi.PushConfig{URL: d.URL + "/dy", Token: tc.token})
			if res.Verify.Passed != tc.passed || res.Push.Signer != tc.signer || res.Push.Format != "json" {
				t.Fatalf("save = %+v verify %+v", res.Push, res.Verify)
			}
			r, body := d.next(t)
			var v struct {
				Event     string `json:"event"`
				ClientKey string `json:"client_key"`
				Content   struct {
					Challenge json.Number `json:"challenge"`
				} `json:"content"`
			}
			if err := json.Unmarshal(body, &v); err != nil || v.Event != "verify_webhook" || v.ClientKey != pushDyApp ||
				r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Msg-Id") == "" {
				t.Fatalf("handshake %s %s %s: %v", r.Method, r.Header, body, err)
			}
			if _, err := v.Content.Challenge.Int64(); err != nil {
				t.Errorf("challenge must be a number (content an object): %s", body)
			}
			if !tc.passed && res.Verify.Status != http.StatusUnauthorized {
				t.Errorf("verify = %+v", res.Verify)
			}
		})
	}
}

func TestDouyinHandshakeWrongChallenge(t *testing.T) {
	t.Parallel()
	m := startPushMock(t)
	d := newDevServer(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		_, _ = io.WriteString(w, `{"challenge":1}`)
	})
	res := setPush(t, m, "douyin", pushDyApp, &mockapi.PushConfig{URL: d.URL})
	if res.Verify.Passed || res.Verify.Error == "" {
		t.Fatalf("a wrong challenge passed: %+v", res.Verify)
	}
	ps := waitPushes(t, m, mockclient.PushFilter{Platform: "douyin", Event: "verify_webhook"}, 1)
	if ps[0].Outcome != mockapi.PushRejected {
		t.Fatalf("journal = %+v", ps[0])
	}
	_, err := m.Control.VerifyPush(context.Background(), "douyin", pushDyApp)
	if err != nil {
		t.Fatal(err)
	}
}

// douyinAction is a user_subscribe_action push, content decoded.
type douyinAction struct {
	Event, ClientKey, FromUserID string
	Content                      struct {
		MsgID  string `json:"msg_id"`
		Time   int64  `json:"time"`
		Action int    `json:"subscribe_action"`
	}
}

func decodeDouyinAction(t *testing.T, body []byte) douyinAction {
	t.Helper()
	var raw struct {
		Event      string `json:"event"`
		ClientKey  string `json:"client_key"`
		FromUserID string `json:"from_user_id"`
		Content    string `json:"content"` // a JSON object written as a string
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("push %s: %v (content must be a string)", body, err)
	}
	out := douyinAction{Event: raw.Event, ClientKey: raw.ClientKey, FromUserID: raw.FromUserID}
	if err := json.Unmarshal([]byte(raw.Content), &out.Content); err != nil {
		t.Fatalf("content %q: %v", raw.Content, err)
	}
	return out
}

func TestDouyinSubscribeActions(t *testing.T) {
	t.Parallel()
	m := startPushMock(t)
	ctx := context.Background()
	d := douyinDev(t, pushDySecret)
	setPush(t, m, "douyin", pushDyApp, &mockapi.PushConfig{URL: d.URL + "/dy"})
	d.next(t)
	now, _ := m.Control.Now(ctx)
	steps := []struct {
		do     func()
		tmpl   string
		action int
	}{
		{func() {
			popup(t, m, mockapi.Popup{Platform: "douyin", AppID: pushDyApp, OpenID: pushUser, Accept: []string{"MSG-one-time-1"}})
		}, "MSG-one-time-1", 1},
		{func() {
			popup(t, m, mockapi.Popup{Platform: "douyin", AppID: pushDyApp, OpenID: pushUser, Accept: []string{"MSG-long-term-1"}})
		}, "MSG-long-term-1", 2},
		{func() {
			if err := m.Control.Revoke(ctx, "douyin", pushDyApp, pushUser, "MSG-long-term-1"); err != nil {
				t.Fatal(err)
			}
		}, "MSG-long-term-1", 3},
		{func() {
			popup(t, m, mockapi.Popup{Platform: "douyin", AppID: pushDyApp, OpenID: pushUser, Reject: []string{"MSG-one-time-1"}})
		}, "MSG-one-time-1", 4},
	}
	msgIDs := map[string]bool{}
	for i, s := range steps {
		s.do()
		r, body := d.nextPost(t)
		a := decodeDouyinAction(t, body)
		if a.Event != "user_subscribe_action" || a.ClientKey != pushDyApp || a.FromUserID != pushUser ||
			a.Content.MsgID != s.tmpl || a.Content.Action != s.action || a.Content.Time < now.Unix()-5 {
			t.Fatalf("step %d: push %s", i, body)
		}
		if r.Header.Get("X-Douyin-Signature") != douyinSig(pushDySecret, body) || r.Header.Get("Msg-Id") == "" {
			t.Fatalf("step %d: headers %v", i, r.Header)
		}
		msgIDs[r.Header.Get("Msg-Id")] = true
	}
	if len(msgIDs) != len(steps) {
		t.Errorf("Msg-Id repeated across different pushes: %v", msgIDs)
	}
	gs, rejected, _ := grantsAndRejections(t, m, "douyin", pushDyApp)
	if len(gs) != 0 || len(rejected) != 2 {
		t.Fatalf("after the rejections: grants %+v rejected %+v", gs, rejected)
	}

	// By hand: content as an object becomes the string Douyin sends, and
	// the action applies.
	res, err := m.Control.PushEvent(ctx, "douyin", pushDyApp, json.RawMessage(`{"event":"user_subscribe_action","from_user_id":"`+pushUser+`",
		"content":{"msg_id":"MSG-one-time-1","time":1714029835,"subscribe_action":1}}`))
	if err != nil || len(res.Effects) != 1 {
		t.Fatalf("hand action = %+v, %v", res, err)
	}
	if g, _ := grantOf(res.Grants, "MSG-one-time-1"); g.Remaining != 1 {
		t.Fatalf("hand accept did not grant: %+v", res.Grants)
	}
	_, body := d.nextPost(t)
	if a := decodeDouyinAction(t, body); a.ClientKey != pushDyApp || a.Content.Time != 1714029835 {
		t.Fatalf("hand push = %s", body)
	}
	for name, ev := range map[string]string{
		"event.content.subscribe_action": `{"event":"user_subscribe_action","from_user_id":"u","content":{"msg_id":"MSG-one-time-1","subscribe_action":9}}`,
		"event.content.msg_id":           `{"event":"user_subscribe_action","from_user_id":"u","content":"{\"subscribe_action\":1}"}`,
		"event.event":                    `{"from_user_id":"u"}`,
		"event.content":                  `{"event":"x","content":5}`,
	} {
		_, err := m.Control.PushEvent(ctx, "douyin", pushDyApp, json.RawMessage(ev))
		wantRefused(t, ev, err, http.StatusBadRequest, name)
	}
}
