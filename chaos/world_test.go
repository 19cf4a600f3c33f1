package chaos_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/chaos"
	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// The probes' world: one WeChat app in the mock (in-process: no probe is
// about the mock's process except the idle flood, which runs the binary),
// N users holding long-term grants for one template, and the sender binary
// delivering to it.
const (
	appName  = "chaos"
	appID    = "wxchaos0000000001"
	tmplID   = "chaos-order-shipped"
	markerKW = "character_string3" // the keyword that carries each message's marker
)

var keywords = []string{"thing1", "time2", markerKW}

func userName(i int) string { return fmt.Sprintf("o_chaos_%07d", i) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type world struct {
	t       *testing.T
	mode    chaos.Mode
	mock    *mocktest.Mock
	secret  string
	apiKey  string
	dir     string
	users   int
	cfgPath string
	logPath string
	dbPath  string
	sender  *chaos.Proc
	hc      *http.Client
}

// newWorld starts the mock with users granted users and an inbox of
// inbox messages.
func newWorld(t *testing.T, mode chaos.Mode, users, inbox int, opts ...mockserver.Option) *world {
	t.Helper()
	w := &world{t: t, mode: mode, secret: randomHex(16), apiKey: "chaos-" + randomHex(12), dir: t.TempDir(),
		users: users, hc: &http.Client{Timeout: 60 * time.Second}}
	app := mockapi.App{Platform: mockapi.PlatformWeChat, AppID: appID, Secret: w.secret, Users: make([]string, users),
		Grants:    make([]mockapi.Grant, users),
		Templates: []mockapi.Template{{TemplateID: tmplID, Title: "订单发货通知", Keywords: keywords, Type: mockapi.TemplateLongTerm}}}
	for i := range users {
		app.Users[i] = userName(i)
		app.Grants[i] = mockapi.Grant{OpenID: userName(i), TemplateID: tmplID, LongTerm: true}
	}
	m, err := mocktest.New(append([]mockserver.Option{mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{app}}),
		mockserver.WithInboxLimit(inbox)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	w.mock = m
	w.logPath = filepath.Join(w.dir, "sender.log")
	w.dbPath = filepath.Join(w.dir, "data", "minipush.db")
	return w
}

// senderConfig is the sender's YAML for the world; extra is appended
// (more top-level settings), delivery replaces the delivery block.
func (w *world) writeConfig(dbPath, delivery, extra string) {
	w.t.Helper()
	if dbPath != "" {
		w.dbPath = dbPath
	}
	if delivery == "" {
		delivery = `delivery: {workers: 32, lease: 5s, send_timeout: 2s, backoff_base: 100ms, backoff_max: 1s,
  throttle_backoff: 300ms, poll_interval: 10ms, shutdown_timeout: 5s}`
	}
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
storage: {driver: sqlite, path: %s}
api_keys: [{name: chaos, key: %s, scopes: [send, read, admin]}]
api_rate: {per_second: 0}
apps:
  - {name: %s, platform: wechat, app_id: %s, secret: %s, base_url: %s}
%s
log: {format: json, level: info}
%s
`, w.dbPath, w.apiKey, appName, appID, w.secret, w.mock.URL, delivery, extra)
	w.cfgPath = filepath.Join(w.dir, "sender.yaml")
	if err := os.WriteFile(w.cfgPath, []byte(cfg), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// startSender runs bin/sender on the world's configuration and waits
// until it is ready.
func (w *world) startSender(env ...string) *chaos.Proc {
	w.t.Helper()
	p := chaos.Start(w.t, chaos.Bin(w.t, "sender"), w.logPath, "sender listening", env, "-config", w.cfgPath)
	if err := chaos.WaitHTTP(context.Background(), p.URL+"/readyz", http.StatusOK, 60*time.Second); err != nil {
		w.t.Fatalf("%v\n%s", err, chaos.Tail(w.logPath, 30))
	}
	w.sender = p
	return p
}

// do calls the sender's API at base.
func (w *world) do(base, method, path string, body any, hdr ...string) (int, http.Header, []byte, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return 0, nil, nil, err
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+w.apiKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// message is a valid message body whose marker keyword is marker.
func message(to, marker string) map[string]any {
	return map[string]any{"app": appName, "to": to, "template_id": tmplID,
		"data": map[string]string{"thing1": "咖啡豆已发货", "time2": "2026-12-05 12:30", markerKW: marker}}
}

// post sends one message with its marker as idempotency key and reports
// whether it was accepted (202, or 200 for a repeat of an accepted key).
func (w *world) post(base, to, marker string) (accepted bool, code int, err error) {
	body := message(to, marker)
	body["idempotency_key"] = marker
	code, _, b, err := w.do(base, http.MethodPost, "/v1/messages", body)
	if err != nil {
		return false, 0, err
	}
	if code == http.StatusAccepted || code == http.StatusOK {
		var a struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(b, &a) != nil || a.ID == "" {
			return false, code, fmt.Errorf("answer without an id: %s", b)
		}
		return true, code, nil
	}
	return false, code, nil
}

// inbox counts the mock's deliveries per marker and recipient
// (inboxKey), for markers with prefix.
func (w *world) inbox(prefix string) (map[string]int, uint64) {
	w.t.Helper()
	got := map[string]int{}
	const page = 10_000
	var dropped uint64
	for offset := 0; ; offset += page {
		msgs, err := w.mock.Control.Messages(context.Background(), mockclient.MessageFilter{AppID: appID, Offset: offset, Limit: page})
		if err != nil {
			w.t.Fatalf("read the mock's inbox: %v", err)
		}
		dropped = msgs.Dropped
		for _, m := range msgs.Messages {
			if mk := m.Data[markerKW]; strings.HasPrefix(mk, prefix) {
				got[inboxKey(mk, m.OpenID)]++
			}
		}
		if len(msgs.Messages) < page {
			return got, dropped
		}
	}
}

// inboxKey names one delivery: a message's marker and its recipient.
func inboxKey(marker, openID string) string { return marker + "|" + openID }

// reconcile compares the markers accepted with the inbox: lost ones
// (accepted, never delivered) and duplicates (deliveries beyond the first).
func reconcile(accepted []string, inbox map[string]int) (lost, dups int, dupMarkers []string) {
	for _, mk := range accepted {
		switch n := inbox[mk]; {
		case n == 0:
			lost++
		case n > 1:
			dups += n - 1
			dupMarkers = append(dupMarkers, mk)
		}
	}
	return lost, dups, dupMarkers
}

// metric reads one sample of a Prometheus text exposition.
func metric(text, name string, labels ...string) (float64, bool) {
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(strings.TrimSpace(rest[strings.LastIndexByte(rest, ' '):]), &v); err == nil {
			return v, true
		}
	}
	return 0, false
}

// queueDepth is the sender's unfinished messages (queued, sending,
// retrying) from /metrics.
func (w *world) queueDepth(base string) (int, error) {
	code, _, b, err := w.do(base, http.MethodGet, "/metrics", nil)
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics: %d", code)
	}
	n := 0
	for _, s := range []string{"queued", "sending", "retrying"} {
		v, _ := metric(string(b), "minipush_queue_depth", `status="`+s+`"`)
		n += int(v)
	}
	return n, nil
}

// drain waits until the sender has nothing left to send.
func (w *world) drain(base string, within time.Duration) error {
	deadline := time.Now().Add(within)
	last, said := -1, time.Now()
	for {
		n, err := w.queueDepth(base)
		if err == nil && n == 0 {
			return nil
		}
		if err == nil {
			last = n
		}
		if time.Since(said) >= time.Minute {
			// A long drain is not a hang: say where it is (and what a run
			// stopped early had reached).
			w.t.Logf("draining: %d messages unfinished, load %.1f", last, chaos.LoadAverage())
			said = time.Now()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d messages still unfinished after %s (last error: %v)", last, within, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
