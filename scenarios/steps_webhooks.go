package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/minipush/minipush/sender/senderclient"
)

// Result webhooks (docs/webhooks.md): each in-process world runs a
// receiver the sender POSTs to for the messages sent with the world's
// webhook key, verifying every POST the documented way.

const (
	hookAPIKey = "bdd-scenarios-webhook-key-01"
	hookSecret = "bdd-scenarios-webhook-secret"
)

// hookPost is one POST the receiver verified.
type hookPost struct {
	payload senderclient.WebhookPayload
	status  int // what the receiver answered
}

// hookReceiver is a world's webhook receiver.
type hookReceiver struct {
	url string
	srv *http.Server

	mu     sync.Mutex
	posts  map[string][]hookPost // by message id
	fail   map[string]int        // app → POSTs still to answer 500
	forged int
}

func startHookReceiver(host string) (*hookReceiver, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	h := &hookReceiver{url: "http://" + ln.Addr().String() + "/hooks/minipush", posts: map[string][]hookPost{},
		fail: map[string]int{}}
	h.srv = &http.Server{Handler: http.HandlerFunc(h.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	return h, nil
}

func (h *hookReceiver) close() { _ = h.srv.Close() }

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = senderclient.VerifyWebhook([]byte(hookSecret), r.Header.Get(senderclient.HeaderSignature), body, time.Now(), 0)
	}
	var p senderclient.WebhookPayload
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	if err == nil && (p.ID != r.Header.Get(senderclient.HeaderEventID) || p.Message.ID == "") {
		err = errors.New("the event id header and the body disagree")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.forged++
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	code := http.StatusNoContent
	if h.fail[p.Message.App] > 0 {
		h.fail[p.Message.App]--
		code = http.StatusInternalServerError
	}
	h.posts[p.Message.ID] = append(h.posts[p.Message.ID], hookPost{payload: p, status: code})
	w.WriteHeader(code)
}

func (s *scenario) registerWebhooks(sc *godog.ScenarioContext) {
	sc.Step(`^my API key has a result webhook$`, s.useHookKey)
	sc.Step(`^the webhook receiver answers 500 to the first (\d+) POSTs about the app's messages$`, s.hookFails)
	sc.Step(`^the webhook receiver gets a signed POST for the message with status "(\w+)"(?: and reason "(\w+)")?$`, s.hookGot)
	sc.Step(`^the delivery log of the message shows (\d+) attempts answered ([\d, and]+)$`, s.hookLog)
}

func (s *scenario) useHookKey() error {
	if s.w.hooks == nil {
		return errors.New("this world has no webhook receiver: the sender's container cannot reach the test process (a Docker daemon on another machine: its network's gateway is not this machine's address; the suite's log says why)")
	}
	s.hookKey = true
	return nil
}

func (s *scenario) hookFails(n int) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	if a.slot == nil {
		return errors.New("the app is not served by the sender")
	}
	s.w.hooks.mu.Lock()
	s.w.hooks.fail[a.slot.name] = n
	s.w.hooks.mu.Unlock()
	return nil
}

// hookGot waits for the receiver to acknowledge (2xx) a verified POST
// about the last message, of its final event, with the status (and
// reason) given, the message as the API shows it.
func (s *scenario) hookGot(status, reason string) error {
	m, err := s.lastSent()
	if err != nil {
		return err
	}
	var got []hookPost
	deadline := time.Now().Add(60 * time.Second)
	for {
		s.w.hooks.mu.Lock()
		got = slices.Clone(s.w.hooks.posts[m.id])
		s.w.hooks.mu.Unlock()
		for _, p := range got {
			pl := p.payload
			if p.status < 300 && pl.Type == "message."+status && pl.Message.Status == status && pl.Message.Reason == reason &&
				pl.ID == m.id+".1" && pl.Message.To == m.req.To && pl.Message.App == m.req.App && pl.MessageAttempts > 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("message %s: the receiver got %+v; want an acknowledged POST of message.%s (reason %q)",
				m.id, got, status, reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hookLog reads the message's delivery log through the sender's API: one
// delivery, succeeded, with these attempts' statuses in order.
func (s *scenario) hookLog(n int, statuses string) error {
	m, err := s.lastSent()
	if err != nil {
		return err
	}
	var want []int
	for _, f := range users(statuses) { // "500, 500 and 204"
		var code int
		if _, err := fmt.Sscan(f, &code); err != nil {
			return fmt.Errorf("status %q: %w", f, err)
		}
		want = append(want, code)
	}
	if len(want) != n {
		return fmt.Errorf("%d attempts but %d statuses given", n, len(want))
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	var last senderclient.WebhookDeliveryPage
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		last, err = c.WebhookDeliveries(ctx, senderclient.WebhookFilter{MessageID: m.id})
		cancel()
		if err != nil {
			return err
		}
		if len(last.Items) == 1 && last.Items[0].Status == senderclient.WebhookSucceeded {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("message %s: delivery log %+v; want one succeeded delivery", m.id, last.Items)
		}
		time.Sleep(50 * time.Millisecond)
	}
	d := last.Items[0]
	var codes []int
	for i, a := range d.Attempts {
		if a.N != i+1 {
			return fmt.Errorf("attempt %d is numbered %d", i+1, a.N)
		}
		codes = append(codes, a.StatusCode)
	}
	if d.AttemptCount != n || !slices.Equal(codes, want) {
		return fmt.Errorf("delivery %s: %d attempts answered %v; want %v", d.ID, d.AttemptCount, codes, want)
	}
	return nil
}
