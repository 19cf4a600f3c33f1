package sender_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/redistest"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/senderclient"
)

const hookSecret = "whsec-e2e-0123456789abcdef"

// receiver is a result-webhook receiver: it verifies every POST's
// signature (senderclient.VerifyWebhook, the documented scheme), answers
// 500 to the first failFirst verified ones, hangs while hang is set, and
// records what it got.
type receiver struct {
	srv *httptest.Server

	mu        sync.Mutex
	failFirst int
	hang      bool
	posts     []post // every verified POST, in order
	forged    int    // POSTs whose signature did not verify
	release   chan struct{}
}

type post struct {
	id      string
	attempt string
	payload senderclient.WebhookPayload
	status  int // what the receiver answered
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{release: make(chan struct{})}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := senderclient.VerifyWebhook([]byte(hookSecret), r.Header.Get(senderclient.HeaderSignature), body,
			time.Now(), 0); err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			rc.mu.Lock()
			rc.forged++
			rc.mu.Unlock()
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		var p senderclient.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil || p.ID != r.Header.Get(senderclient.HeaderEventID) ||
			p.Type != r.Header.Get(senderclient.HeaderEvent) {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		hang := rc.hang
		rc.mu.Unlock()
		if hang {
			select {
			case <-r.Context().Done():
			case <-rc.release:
			}
			return
		}
		rc.mu.Lock()
		code := http.StatusNoContent
		if rc.failFirst > 0 {
			rc.failFirst--
			code = http.StatusInternalServerError
		}
		rc.posts = append(rc.posts, post{id: p.ID, attempt: r.Header.Get(senderclient.HeaderAttempt), payload: p, status: code})
		rc.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(func() {
		close(rc.release)
		rc.srv.Close()
	})
	return rc
}

// eventIDs are the distinct event ids of the POSTs answered 2xx: what a
// receiver that de-duplicates by Minipush-Event-Id processed. (A POST the
// receiver answered after the sender's timeout comes again: at least
// once.)
func (rc *receiver) eventIDs() []string {
	var out []string
	for _, p := range rc.succeeded() {
		if !slices.Contains(out, p.id) {
			out = append(out, p.id)
		}
	}
	return out
}

// succeeded are the POSTs answered 2xx.
func (rc *receiver) succeeded() []post {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []post
	for _, p := range rc.posts {
		if p.status < 300 {
			out = append(out, p)
		}
	}
	return out
}

func (rc *receiver) all() []post {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]post(nil), rc.posts...)
}

// hookConfig gives the shop app a webhook to rc with short retries.
func hookConfig(t *testing.T, cfg *config.Config, rc *receiver) *config.Config {
	t.Helper()
	cfg.Apps[0].Webhook = &config.Webhook{URL: rc.srv.URL + "/hooks/minipush", Secret: hookSecret}
	cfg.APIKeys[0].Scopes = config.Scopes
	cfg.Webhooks.BackoffBase = 100 * time.Millisecond
	cfg.Webhooks.BackoffMax = 400 * time.Millisecond
	cfg.Webhooks.PollInterval = 20 * time.Millisecond
	// Generous: a POST the receiver answers after the timeout is an
	// attempt more, which the tests that count attempts would misread.
	cfg.Webhooks.Timeout = 10 * time.Second
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// deliveries reads the delivery log of message id over the API.
func (s *svc) deliveries(id string) []message.WebhookDelivery {
	s.t.Helper()
	code, b := s.do(http.MethodGet, query("/v1/webhooks/deliveries", "message_id", id), nil)
	if code != http.StatusOK {
		s.t.Fatalf("GET /v1/webhooks/deliveries: %d %s", code, b)
	}
	var p struct {
		Items []message.WebhookDelivery `json:"items"`
	}
	mustJSON(s.t, b, &p)
	return p.Items
}

// waitDelivery polls message id's deliveries until one has status want.
func (s *svc) waitDelivery(id string, want message.WebhookStatus, timeout time.Duration) message.WebhookDelivery {
	s.t.Helper()
	var last []message.WebhookDelivery
	err := eventually(timeout, func() bool {
		last = s.deliveries(id)
		return len(last) > 0 && last[0].Status == want
	})
	if err != nil {
		s.t.Fatalf("message %s: deliveries %+v; want the newest %s within %s", id, last, want, timeout)
	}
	return last[0]
}

// drivers runs fn on SQLite and on Redis (skipped without redis-server,
// failed with MINIPUSH_REQUIRE_REDIS=1).
func drivers(t *testing.T, fn func(t *testing.T, onDriver func(*config.Config) *config.Config)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, func(c *config.Config) *config.Config { return c })
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		srv := redistest.Start(t, redistest.WithAOF("everysec"))
		prefix := newPrefix()
		fn(t, func(c *config.Config) *config.Config { return onRedis(c, srv, prefix) })
	})
}

// A delivered message's webhook: the receiver fails twice, the third
// POST succeeds; every POST is signed and carries the same event id; the
// delivery log shows the three attempts with their statuses and growing
// waits (backoff); a message of an app without a webhook makes no POST;
// a not-subscribed failure arrives with its reason; metrics count it.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	drivers(t, func(t *testing.T, onDriver func(*config.Config) *config.Config) {
		mock := startMock(t)
		rc := newReceiver(t)
		rc.failFirst = 2
		s := startService(t, mock, onDriver(hookConfig(t, testConfig(t, mock.URL), rc)), nil)

		id := s.send(msg(shopApp, users[0], "wh-1"))
		s.wait(id, message.StatusDelivered, 15*time.Second)
		d := s.waitDelivery(id, message.WebhookSucceeded, 20*time.Second)
		if d.ID != id+".1" || d.Event != message.WebhookDelivered || d.MessageStatus != message.StatusDelivered ||
			d.AttemptCount != 3 || len(d.Attempts) != 3 {
			t.Fatalf("delivery %+v; want %s.1, message.delivered, 3 attempts", d, id)
		}
		for i, want := range []int{500, 500, 204} {
			a := d.Attempts[i]
			if a.N != i+1 || a.StatusCode != want || (want == 204) != (a.Error == "") || a.LatencyMS <= 0 {
				t.Errorf("attempt %d = %+v; want number %d, status %d, an error unless 2xx, a latency", i, a, i+1, want)
			}
		}
		gap1, gap2 := d.Attempts[1].At.Sub(d.Attempts[0].At), d.Attempts[2].At.Sub(d.Attempts[1].At)
		if gap1 < 50*time.Millisecond || gap2 < 100*time.Millisecond {
			t.Errorf("waits between attempts %s, %s; want at least half the backoff (50ms, then 100ms)", gap1, gap2)
		}
		got := rc.all()
		if len(got) != 3 {
			t.Fatalf("receiver got %d verified POSTs, want 3", len(got))
		}
		for i, p := range got {
			if p.id != id+".1" || p.attempt != fmt.Sprint(i+1) || p.payload.Attempt != i+1 {
				t.Errorf("POST %d: event %s attempt %s/%d; want %s.1, attempt %d", i, p.id, p.attempt, p.payload.Attempt, id, i+1)
			}
		}
		pl := got[2].payload
		if pl.Type != senderclient.EventDelivered || pl.Message.ID != id || pl.Message.App != shopApp ||
			pl.Message.To != users[0] || pl.Message.TemplateID != tmpl || pl.Message.Status != senderclient.StatusDelivered ||
			pl.Message.PlatformMsgID == "" || pl.MessageAttempts == 0 || pl.MessageAttempts != len(pl.Message.Attempts) ||
			pl.CreatedAt.IsZero() || pl.Message.CreatedAt.IsZero() {
			t.Errorf("payload %+v; want the delivered message as the API shows it", pl)
		}

		// Not subscribed: the platform refuses, the message fails with
		// reason not_subscribed, and the webhook says so.
		no := s.send(msg(shopApp, noGrant, "wh-2"))
		s.wait(no, message.StatusFailed, 15*time.Second)
		nd := s.waitDelivery(no, message.WebhookSucceeded, 20*time.Second)
		if nd.Event != message.WebhookFailedEv || nd.Reason != message.ReasonNotSubscribed || nd.Code == "" {
			t.Errorf("delivery %+v; want message.failed, not_subscribed, the platform's code", nd)
		}
		var np *senderclient.WebhookPayload
		for _, p := range rc.succeeded() {
			if p.id == no+".1" {
				np = &p.payload
			}
		}
		if np == nil || np.Type != senderclient.EventFailed || np.Message.Reason != senderclient.ReasonNotSubscribed ||
			np.Message.Status != senderclient.StatusFailed {
			t.Errorf("receiver's payload for the not-subscribed message: %+v", np)
		}

		// The club app has no webhook: nothing is written or sent.
		other := s.send(msg(clubApp, users[1], "wh-3"))
		s.wait(other, message.StatusDelivered, 15*time.Second)
		if ds := s.deliveries(other); len(ds) != 0 {
			t.Errorf("deliveries of a message without a webhook: %+v", ds)
		}

		// One delivery per id; redeliver refuses a succeeded one (409),
		// and the delivery reads by id.
		if code, b := s.do(http.MethodPost, "/v1/webhooks/deliveries/"+d.ID+"/redeliver", nil); code != http.StatusConflict {
			t.Errorf("redeliver a succeeded delivery: %d %s, want 409", code, b)
		}
		if code, b := s.do(http.MethodGet, "/v1/webhooks/deliveries/"+d.ID, nil); code != http.StatusOK ||
			!strings.Contains(string(b), `"status":"succeeded"`) {
			t.Errorf("GET the delivery: %d %s", code, b)
		}
		if code, b := s.do(http.MethodGet, "/v1/webhooks/deliveries/nope", nil); code != http.StatusBadRequest {
			t.Errorf("GET a malformed delivery id: %d %s, want 400", code, b)
		}
		if code, b := s.do(http.MethodGet, query("/v1/webhooks/deliveries", "status", "bogus"), nil); code != http.StatusBadRequest {
			t.Errorf("bad status filter: %d %s, want 400", code, b)
		}
		_, mt := s.do(http.MethodGet, "/metrics", nil)
		if n, _ := metric(string(mt), "minipush_webhook_deliveries_total", `outcome="retry"`); n != 2 {
			t.Errorf("webhook retries metric = %v, want 2", n)
		}
		if n, _ := metric(string(mt), "minipush_webhook_deliveries_total", `outcome="succeeded"`); n != 2 {
			t.Errorf("webhook successes metric = %v, want 2", n)
		}
		if _, ok := metric(string(mt), "minipush_webhook_queue", `status="pending"`); !ok {
			t.Error("no minipush_webhook_queue gauge")
		}
		rc.mu.Lock()
		forged := rc.forged
		rc.mu.Unlock()
		if forged != 0 {
			t.Errorf("%d POSTs did not verify", forged)
		}
	})
}

// A sender stopped while a delivery is being retried delivers it after
// its restart (the outbox is in storage), once per event id; a receiver
// that hangs is cut off at the timeout and the attempt says so; the
// secret never shows in logs or API answers.
func TestWebhookRestartTimeoutSecrets(t *testing.T) {
	t.Parallel()
	drivers(t, func(t *testing.T, onDriver func(*config.Config) *config.Config) {
		mock := startMock(t)
		rc := newReceiver(t)
		rc.failFirst = 1 << 30 // fails until told otherwise
		logs := &syncBuffer{}
		log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		cfg := onDriver(hookConfig(t, testConfig(t, mock.URL), rc))
		cfg.Webhooks.Timeout = 300 * time.Millisecond
		s := startService(t, mock, cfg, log)

		id := s.send(msg(shopApp, users[2], "wh-restart"))
		s.wait(id, message.StatusDelivered, 15*time.Second)
		if err := eventually(20*time.Second, func() bool {
			ds := s.deliveries(id)
			return len(ds) == 1 && ds[0].AttemptCount >= 1
		}); err != nil {
			t.Fatalf("no failed attempt recorded: %+v", s.deliveries(id))
		}
		s.stop()
		rc.mu.Lock()
		rc.failFirst = 0
		rc.mu.Unlock()
		s.start()
		d := s.waitDelivery(id, message.WebhookSucceeded, 30*time.Second)
		if ids := rc.eventIDs(); !slices.Equal(ids, []string{id + ".1"}) {
			t.Fatalf("after the restart the receiver acknowledged events %v; want %s.1 (once by its id)", ids, id)
		}
		if d.Attempts[len(d.Attempts)-1].StatusCode != 204 {
			t.Errorf("last attempt %+v, want 204", d.Attempts[len(d.Attempts)-1])
		}

		// A hanging receiver: the attempt ends at the timeout.
		rc.mu.Lock()
		rc.hang = true
		rc.mu.Unlock()
		hung := s.send(msg(shopApp, users[3], "wh-hang"))
		s.wait(hung, message.StatusDelivered, 15*time.Second)
		if err := eventually(20*time.Second, func() bool {
			ds := s.deliveries(hung)
			return len(ds) == 1 && ds[0].AttemptCount >= 1
		}); err != nil {
			t.Fatalf("no attempt recorded against a hanging receiver: %+v", s.deliveries(hung))
		}
		a := s.deliveries(hung)[0].Attempts[0]
		if a.StatusCode != 0 || !strings.Contains(a.Error, "timeout") {
			t.Errorf("attempt against a hanging receiver: %+v; want no status and a timeout error", a)
		}

		// The secret: not in the logs, not in any API answer.
		s.do(http.MethodGet, "/v1/apps/"+shopApp, nil)
		s.do(http.MethodGet, "/v1/webhooks/deliveries", nil)
		s.mu.Lock()
		answers := strings.Join(s.answers, "\n")
		s.mu.Unlock()
		if strings.Contains(logs.String(), hookSecret) || strings.Contains(answers, hookSecret) {
			t.Error("the webhook secret shows in the logs or an API answer")
		}
		if strings.Contains(cfg.String(), hookSecret) {
			t.Error("the webhook secret shows in the printed configuration")
		}
	})
}

// A delivery whose retry window ends without a 2xx fails; an admin
// redelivers it (a key without the admin scope may not), and it succeeds
// with its earlier attempts kept and the same event id.
func TestWebhookRedeliver(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	rc := newReceiver(t)
	rc.failFirst = 1 << 30
	cfg := hookConfig(t, testConfig(t, mock.URL), rc)
	cfg.Webhooks.RetryWindow = 150 * time.Millisecond
	cfg.APIKeys = append(cfg.APIKeys, config.APIKey{Name: "reader", Key: "reader-key-000001", Scopes: []string{config.ScopeRead}})
	s := startService(t, mock, cfg, nil)

	id := s.send(msg(shopApp, users[4], "wh-redeliver"))
	s.wait(id, message.StatusDelivered, 15*time.Second)
	d := s.waitDelivery(id, message.WebhookFailed, 20*time.Second)
	if d.AttemptCount < 1 || d.NextAttemptAt != (time.Time{}) {
		t.Fatalf("failed delivery %+v; want its attempts and no next attempt", d)
	}
	code, b := s.do(http.MethodGet, query("/v1/webhooks/deliveries", "status", "failed"), nil)
	if code != http.StatusOK || !strings.Contains(string(b), d.ID) {
		t.Errorf("failed deliveries: %d %s; want %s", code, b, d.ID)
	}
	_, mt := s.do(http.MethodGet, "/metrics", nil)
	if n, _ := metric(string(mt), "minipush_webhook_deliveries_total", `outcome="failed"`); n != 1 {
		t.Errorf("webhook failures metric = %v, want 1", n)
	}
	if n, _ := metric(string(mt), "minipush_webhook_queue", `status="failed"`); n != 1 {
		t.Errorf("webhook queue failed = %v, want 1", n)
	}
	if code, b := s.doKey(http.MethodPost, "/v1/webhooks/deliveries/"+d.ID+"/redeliver", "reader-key-000001", nil); code != http.StatusForbidden {
		t.Errorf("redeliver without the admin scope: %d %s, want 403", code, b)
	}
	rc.mu.Lock()
	rc.failFirst = 0
	rc.mu.Unlock()
	code, b = s.do(http.MethodPost, "/v1/webhooks/deliveries/"+d.ID+"/redeliver", nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"status":"pending"`) {
		t.Fatalf("redeliver: %d %s; want 200, pending", code, b)
	}
	done := s.waitDelivery(id, message.WebhookSucceeded, 20*time.Second)
	if done.AttemptCount != d.AttemptCount+1 || done.Attempts[d.AttemptCount].StatusCode != 204 {
		t.Errorf("after redelivery %+v; want the %d earlier attempts and a 204", done, d.AttemptCount)
	}
	if ids := rc.eventIDs(); !slices.Equal(ids, []string{d.ID}) {
		t.Errorf("receiver acknowledged events %v; want %s", ids, d.ID)
	}
	if code, b := s.do(http.MethodPost, "/v1/webhooks/deliveries/"+id+".9/redeliver", nil); code != http.StatusNotFound {
		t.Errorf("redeliver an unknown delivery: %d %s, want 404", code, b)
	}
}
