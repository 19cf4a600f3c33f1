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
