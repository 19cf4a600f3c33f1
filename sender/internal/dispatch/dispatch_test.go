package dispatch_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/dispatch"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/ratelimit"
	"github.com/minipush/minipush/sender/internal/storage"
)

// store hands out its queue once and records every outcome.
type store struct {
	mu       sync.Mutex
	queue    []message.Message
	claims   int
	claimErr error
	records  []record
	// ignoreLimit hands out more than asked: the loop then holds claimed
	// messages no worker is free for, as it does for a moment when a
	// worker is slow to come back for more.
	ignoreLimit bool
}

type record struct {
	id      string
	attempt *message.Attempt
	update  storage.Update
}

func (s *store) Claim(_ context.Context, _ time.Time, limit int, _ time.Duration) ([]message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims++
	if s.claimErr != nil {
		return nil, s.claimErr
	}
	n := min(limit, len(s.queue))
	if s.ignoreLimit {
		n = len(s.queue)
	}
	out := s.queue[:n]
	s.queue = s.queue[n:]
	return out, nil
}

func (s *store) Record(_ context.Context, id string, a *message.Attempt, u storage.Update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, record{id, a, u})
	return nil
}

func (s *store) snapshot() []record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]record(nil), s.records...)
}

// client answers sends with send (nil: delivered) and checks with check.
type client struct {
	send  func(ctx context.Context, s platform.Send) error
	check func(ctx context.Context) (platform.Verdict, error)
	sent  atomic.Int64
}

func (c *client) Send(ctx context.Context, s platform.Send) (platform.Result, error) {
	c.sent.Add(1)
	if c.send != nil {
		if err := c.send(ctx, s); err != nil {
			return platform.Result{}, err
		}
	}
	return platform.Result{MsgID: "1"}, nil
}

func (c *client) CheckContent(ctx context.Context, _ string, _ []string) (platform.Verdict, error) {
	if c.check == nil {
		return platform.Verdict{}, platform.ErrUnsupported
	}
	return c.check(ctx)
}

func delivery() config.Delivery {
	d := config.Defaults().Delivery
	d.Workers, d.Batch = 4, 16
	d.PollInterval = 5 * time.Millisecond
	d.BackoffBase, d.BackoffMax = 10*time.Millisecond, 100*time.Millisecond
	d.ThrottleBackoff = 50 * time.Millisecond
	d.Lease, d.SendTimeout, d.ShutdownTimeout = 2*time.Second, time.Second, 2*time.Second
	return d
}

func messages(n int) []message.Message {
	out := make([]message.Message, n)
	for i := range out {
		out[i] = message.Message{ID: message.NewID("msg_", time.Now()), App: "app", To: "u" + string(rune('a'+i%26)),
			TemplateID: "t", Data: map[string]string{"thing1": "x"}, Status: message.StatusSending}
	}
	return out
}

func newDispatcher(st *store, c *client, cfg config.Delivery, contentCheck bool) *dispatch.Dispatcher {
	apps := map[string]*dispatch.App{"app": {Name: "app", Platform: "wechat", Client: c,
		Shaper: ratelimit.New(0, 0, 0), ContentCheck: contentCheck}}
	return dispatch.New(st, apps, cfg, slog.New(slog.DiscardHandler))
}

// run starts d and returns a stop func that cancels it and returns Run's error.
func run(d *dispatch.Dispatcher) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return func() error { cancel(); return <-done }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// On shutdown, claimed messages no worker took are handed back exactly
// once, and none of them is sent after being handed back.
func TestShutdownHandsBackOnce(t *testing.T) {
	t.Parallel()
	cfg := delivery()
	cfg.Workers = 1
	release := make(chan struct{})
	c := &client{send: func(ctx context.Context, _ platform.Send) error {
		<-release
		return nil
	}}
	st := &store{queue: messages(4), ignoreLimit: true}
	d := newDispatcher(st, c, cfg, false)
	stop := run(d)
	// The one worker is busy with the first message; the loop waits to
	// hand out the second.
	waitFor(t, "the first send", func() bool { return c.sent.Load() == 1 })
	errc := make(chan error, 1)
	go func() { errc <- stop() }()
	// Let the loop see the cancellation before the worker frees up.
	waitFor(t, "the hand-back", func() bool { return len(st.snapshot()) >= 3 })
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	perID := map[string][]storage.Update{}
	for _, r := range st.snapshot() {
		perID[r.id] = append(perID[r.id], r.update)
	}
	if len(perID) != 4 {
		t.Fatalf("%d messages recorded, want 4: %v", len(perID), perID)
	}
	for id, us := range perID {
		if len(us) != 1 {
			t.Errorf("message %s recorded %d times: %+v", id, len(us), us)
		}
	}
	if n := c.sent.Load(); n != 1 {
		t.Errorf("%d sends, want 1 (the others were handed back)", n)
	}
	if n := d.InFlight(); n != 0 {
		t.Errorf("in flight after Run: %d", n)
	}
}

// The platform's wait on throttling is a minimum: the app pauses at least
// that long, never half of it.
func TestThrottleHonoursPlatformWait(t *testing.T) {
	t.Parallel()
	for range 20 { // jitter is random: try it often
		c := &client{send: func(context.Context, platform.Send) error {
			return &platform.Error{Platform: "wechat", Code: "45009", Class: message.OutcomeThrottled, RetryAfter: time.Hour}
		}}
		st := &store{queue: messages(1)}
		stop := run(newDispatcher(st, c, delivery(), false))
		start := time.Now()
		waitFor(t, "the outcome", func() bool { return len(st.snapshot()) == 1 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		r := st.snapshot()[0]
		if r.update.Status != message.StatusRetrying || r.update.CountRetry {
			t.Fatalf("update %+v, want retrying without spending a retry", r.update)
		}
		if wait := r.update.NextAttemptAt.Sub(start); wait < time.Hour || wait > time.Hour+time.Hour/20+time.Second {
			t.Fatalf("paused %v, want an hour plus at most 5%%", wait)
		}
	}
}

// The content check and the send together stay inside the lease, so a
// message cannot be claimed by another worker while it is being sent.
func TestCheckAndSendEndInsideLease(t *testing.T) {
	t.Parallel()
	cfg := delivery()
	cfg.Lease, cfg.SendTimeout = time.Second, 900*time.Millisecond
	c := &client{
		check: func(ctx context.Context) (platform.Verdict, error) {
			select {
			case <-time.After(600 * time.Millisecond):
			case <-ctx.Done():
			}
			return platform.Verdict{Label: "100"}, nil
		},
		send: func(ctx context.Context, _ platform.Send) error {
			<-ctx.Done() // a platform that never answers
			return &platform.Error{Platform: "wechat", Code: "timeout", Class: message.OutcomeRetryable, Message: ctx.Err().Error()}
		},
	}
	st := &store{queue: messages(1)}
	stop := run(newDispatcher(st, c, cfg, true))
	start := time.Now()
	waitFor(t, "the outcome", func() bool { return len(st.snapshot()) == 1 })
	took := time.Since(start)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if took >= cfg.Lease {
		t.Fatalf("check and send took %v, past the %v lease", took, cfg.Lease)
	}
	if r := st.snapshot()[0]; r.update.Status != message.StatusRetrying {
		t.Fatalf("update %+v, want retrying", r.update)
	}
}

// A failing store is polled with a growing backoff, not every poll
// interval.
func TestClaimErrorsBackOff(t *testing.T) {
	t.Parallel()
	cfg := delivery()
	cfg.PollInterval = time.Millisecond
	st := &store{claimErr: errors.New("disk I/O error")}
	stop := run(newDispatcher(st, &client{}, cfg, false))
	time.Sleep(500 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	claims := st.claims
	st.mu.Unlock()
	// 1ms doubling: 2+4+…+256 ms ≈ 0.5 s is 8 or 9 claims; without backoff
	// it would be hundreds.
	if claims > 15 {
		t.Fatalf("%d claims in 500ms against a failing store", claims)
	}
}

// The error taxonomy: delivered, permanent, retryable (then failed at max
// attempts), rejected by the content check.
func TestOutcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		retries int
		check   func(context.Context) (platform.Verdict, error)
		err     error
		want    storage.Update
		outcome message.Outcome
	}{
		{name: "delivered", want: storage.Update{Status: message.StatusDelivered, PlatformMsgID: "1"}, outcome: message.OutcomeDelivered},
		{name: "permanent", err: &platform.Error{Code: "43101", Class: message.OutcomePermanent, Message: "no grant"},
			want: storage.Update{Status: message.StatusFailed, LastCode: "43101", LastError: "no grant"}, outcome: message.OutcomePermanent},
		{name: "retryable", err: &platform.Error{Code: "-1", Class: message.OutcomeRetryable, Message: "busy"},
			want: storage.Update{Status: message.StatusRetrying, CountRetry: true, LastCode: "-1", LastError: "busy"}, outcome: message.OutcomeRetryable},
		{name: "last attempt", retries: config.Defaults().Delivery.MaxAttempts - 1, err: &platform.Error{Code: "-1", Class: message.OutcomeRetryable, Message: "busy"},
			want: storage.Update{Status: message.StatusFailed, LastCode: "-1", LastError: "busy"}, outcome: message.OutcomeRetryable},
		{name: "transport", err: errors.New("connection reset"),
			want: storage.Update{Status: message.StatusRetrying, CountRetry: true, LastCode: "transport", LastError: "connection reset"}, outcome: message.OutcomeRetryable},
		{name: "risky", check: func(context.Context) (platform.Verdict, error) {
			return platform.Verdict{Risky: true, Label: "20001"}, nil
		},
			want: storage.Update{Status: message.StatusRejected, LastCode: "risky:20001"}, outcome: message.OutcomeRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &client{check: tc.check, send: func(context.Context, platform.Send) error { return tc.err }}
			msgs := messages(1)
			msgs[0].Retries = tc.retries
			st := &store{queue: msgs}
			stop := run(newDispatcher(st, c, delivery(), tc.check != nil))
			waitFor(t, "the outcome", func() bool { return len(st.snapshot()) == 1 })
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			r := st.snapshot()[0]
			got := r.update
			got.NextAttemptAt = time.Time{}
			if tc.outcome == message.OutcomeRejected {
				got.LastError = ""
			}
			if got != tc.want {
				t.Errorf("update %+v, want %+v", got, tc.want)
			}
			if r.attempt == nil || r.attempt.Outcome != tc.outcome {
				t.Errorf("attempt %+v, want outcome %s", r.attempt, tc.outcome)
			}
			if tc.want.Status == message.StatusRetrying && !r.update.NextAttemptAt.After(time.Now().Add(-time.Second)) {
				t.Errorf("retry at %v: no backoff", r.update.NextAttemptAt)
			}
		})
	}
}
