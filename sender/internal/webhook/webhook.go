// Package webhook delivers the sender's result webhooks: it claims the
// events storage wrote into its outbox (in the same step as the change
// they report), POSTs each, signed, to the webhook of its message's API
// key or app, records every attempt, and retries failures with
// exponential backoff and jitter until the retry window ends
// (docs/webhooks.md). Delivery is at least once: a receiver drops
// repeats by the event id.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Target is where a message's events go: the URL, and the secret that
// signs them.
type Target struct {
	URL    string
	Secret []byte
}

// Outcomes of one attempt (metric label outcome).
const (
	OutcomeSucceeded = "succeeded" // 2xx
	OutcomeRetry     = "retry"     // failed, will be retried
	OutcomeFailed    = "failed"    // failed, the retry window is over: given up
)

// Config configures a Deliverer. Zero durations take the defaults of
// package config (docs/webhooks.md#retries).
type Config struct {
	Store storage.Store
	// Target returns the webhook of a message of app sent with API key
	// key; false when there is none (any more).
	Target func(app, key string) (Target, bool)
	// Client makes the POSTs; its Timeout is replaced by Timeout.
	Client       *http.Client
	Timeout      time.Duration
	BackoffBase  time.Duration
	BackoffMax   time.Duration
	RetryWindow  time.Duration
	Workers      int
	PollInterval time.Duration
	// Now is the clock (default time.Now); Jitter returns a number in
	// [0, 1) (default math/rand/v2).
	Now    func() time.Time
	Jitter func() float64
	Log    *slog.Logger
	// Observe, when set, hears of every attempt: its outcome and latency.
	Observe func(outcome string, latency time.Duration)
}

// Deliverer runs the deliveries. Create it with New.
type Deliverer struct {
	cfg  Config
	wake chan struct{}
}

// New returns a Deliverer for cfg.
func New(cfg Config) *Deliverer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 5 * time.Second
	}
	if cfg.BackoffMax < cfg.BackoffBase {
		cfg.BackoffMax = max(time.Hour, cfg.BackoffBase)
	}
	if cfg.RetryWindow <= 0 {
		cfg.RetryWindow = 24 * time.Hour
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	c := http.Client{}
	if cfg.Client != nil {
		c = *cfg.Client
	}
	c.Timeout = cfg.Timeout
	// A redirect is not followed: the receiver's URL is configured, and a
	// 3xx is an answer that is not a 2xx.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.Client = &c
	return &Deliverer{cfg: cfg, wake: make(chan struct{}, 1)}
}

// Lease is how long a claimed delivery is left alone: a POST and its
// record fit well inside it; after it, a sender that died mid-delivery
// leaves the delivery to be claimed again.
func (d *Deliverer) Lease() time.Duration { return 2*d.cfg.Timeout + 5*time.Second }

// Wake makes Run look at the outbox now (e.g. after a redeliver).
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends: a pass whenever deliveries may be due,
// every PollInterval otherwise.
func (d *Deliverer) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
		n, err := d.Pass(ctx)
		if err != nil && ctx.Err() == nil {
			d.cfg.Log.Warn("webhook deliveries", "err", err)
		}
		wait := d.cfg.PollInterval
		if n > 0 {
			wait = 0 // more may be due
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(wait)
	}
}

// Pass claims the deliveries due now (at most Workers) and makes one
// attempt of each, in parallel; it returns how many it attempted.
func (d *Deliverer) Pass(ctx context.Context) (int, error) {
	ds, err := d.cfg.Store.ClaimWebhooks(ctx, d.cfg.Now(), d.cfg.Workers, d.Lease())
	if err != nil {
		return 0, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, x := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.attempt(ctx, x); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(ds), errors.Join(errs...)
}

// Payload is the JSON body of a webhook POST (docs/webhooks.md#payload).
type Payload struct {
	// ID is the event's id: the same on every attempt; de-duplicate by it.
	ID   string               `json:"id"`
	Type message.WebhookEvent `json:"type"`
	// CreatedAt is when the event happened.
	CreatedAt time.Time `json:"created_at"`
	// Attempt is this POST's number, 1 for the first.
	Attempt int `json:"attempt"`
	// Message is the message as GET /v1/messages/{id} shows it, with the
	// status, reason and last code it had when the event happened.
	Message message.Message `json:"message"`
	// MessageAttempts is how many platform calls the message has had.
	MessageAttempts int `json:"message_attempts"`
}

// Build returns the body for delivery x's attempt n, from message m.
func Build(x message.WebhookDelivery, m message.Message, n int) ([]byte, error) {
	m.Status, m.Reason, m.LastCode = x.MessageStatus, x.Reason, x.Code
	if m.Attempts == nil {
		m.Attempts = []message.Attempt{}
	}
	return json.Marshal(Payload{ID: x.ID, Type: x.Event, CreatedAt: x.CreatedAt, Attempt: n, Message: m,
		MessageAttempts: len(m.Attempts)})
}

// attempt makes one attempt of delivery x and records it.
func (d *Deliverer) attempt(ctx context.Context, x message.WebhookDelivery) error {
	n := x.AttemptCount + 1
	start := d.cfg.Now()
	a := message.WebhookAttempt{At: start}
	ok := false
	t, found := d.cfg.Target(x.App, x.APIKey)
	var m message.Message
	var err error
	if found {
		m, err = d.cfg.Store.Get(ctx, x.MessageID)
	}
	switch {
	case !found:
		a.Error = "no webhook is configured for this message's app or API key any more"
	case errors.Is(err, storage.ErrNotFound):
		a.Error = "the message is no longer stored (retention)"
	case err != nil:
		// Storage could not answer: no attempt is spent, the lease's end
		// brings the delivery back.
		return fmt.Errorf("webhook %s: read message: %w", x.ID, err)
	default:
		ok, a = d.post(ctx, t, x, m, n, a)
		if !ok && ctx.Err() != nil {
			// Stopped mid-POST: not an attempt of the receiver's; the
			// lease's end brings the delivery back (after a restart too).
			return nil
		}
	}
	st, next, outcome := message.WebhookSucceeded, time.Time{}, OutcomeSucceeded
	if !ok {
		st, next, outcome = message.WebhookPending, start.Add(d.Backoff(n)), OutcomeRetry
		if !found || errors.Is(err, storage.ErrNotFound) || next.After(x.WindowAt.Add(d.cfg.RetryWindow)) {
			st, next, outcome = message.WebhookFailed, time.Time{}, OutcomeFailed
		}
	}
	if d.cfg.Observe != nil {
		d.cfg.Observe(outcome, time.Duration(a.LatencyMS*float64(time.Millisecond)))
	}
	if err := d.cfg.Store.RecordWebhook(context.WithoutCancel(ctx), x.ID, a, st, next); err != nil {
		return fmt.Errorf("webhook %s: record attempt %d: %w", x.ID, n, err)
	}
	if outcome == OutcomeFailed {
		d.cfg.Log.Warn("webhook delivery failed for good", "id", x.ID, "attempts", n, "err", a.Error)
	}
	return nil
}

// post makes the POST. The error kept is the transport's without the URL
// (it may hold a token) or the status; the answer's body is read (at most
// 64 KiB, so the connection is reused) and dropped.
func (d *Deliverer) post(ctx context.Context, t Target, x message.WebhookDelivery, m message.Message, n int,
	a message.WebhookAttempt) (bool, message.WebhookAttempt) {
	body, err := Build(x, m, n)
	if err != nil {
		a.Error = "encode: " + err.Error()
		return false, a
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		a.Error = "the webhook URL is invalid"
		return false, a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "minipush-sender")
	req.Header.Set(HeaderEventID, x.ID)
	req.Header.Set(HeaderEvent, string(x.Event))
	req.Header.Set(HeaderAttempt, strconv.Itoa(n))
	req.Header.Set(HeaderSignature, Sign(t.Secret, d.cfg.Now(), body))
	start := time.Now()
	resp, err := d.cfg.Client.Do(req)
	a.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ue != nil && ue.Timeout() {
			a.Error = fmt.Sprintf("timeout: no answer within %s", d.cfg.Timeout)
		} else {
			a.Error = err.Error()
		}
		return false, a
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	a.StatusCode = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		a.Error = "the receiver answered " + resp.Status
		return false, a
	}
	return true, a
}

// Backoff is the wait after failed attempt n (1, 2, …): BackoffBase
// doubled n-1 times, at most BackoffMax, of which a random half is taken
// off ("equal jitter"), so receivers that failed together are not all
// retried at once.
func (d *Deliverer) Backoff(n int) time.Duration {
	w := d.cfg.BackoffBase
	for i := 1; i < n && w < d.cfg.BackoffMax; i++ {
		w *= 2
	}
	w = min(w, d.cfg.BackoffMax)
	return w/2 + time.Duration(d.cfg.Jitter()*float64(w/2))
}
