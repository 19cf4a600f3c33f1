// Package dispatch delivers queued messages: it claims due messages from
// storage with a lease, shapes them per app (rate, per-user interval, pause
// after throttling), optionally runs the platform's content check, sends
// them through the app's platform client and records the outcome:
// delivered; failed at once on a permanent error; retried with exponential
// backoff and jitter on a retryable one (then failed after max attempts);
// the whole app paused on throttling — until the platform's window ends
// for a quota, for the throttle backoff otherwise; pauses are stored, so
// they survive restarts and show in the API, and an operator may end one
// early (Resume). A crashed worker's lease expires and the message is
// claimed again.
//
// Every failed attempt carries a reason from the sender's vocabulary
// (package reason) next to the platform's code, and so does the message;
// the token refreshes a send needed are recorded as attempts of their own
// (kind token_refresh).
//
// Consent (docs/events.md): before each send the app's consent gate is
// asked; in enforce mode a message to a user the ledger knows refused the
// template ends rejected with reason not_subscribed, without a platform
// call. A not-subscribed answer from the platform is taught to the ledger.
//
// Exactly once unless a crash (docs/delivery.md): a send ends before the
// lease the store granted runs out, less a margin to record the outcome;
// an outcome that cannot be written is kept and written again, and no
// message is claimed while one is pending, so a message is never handed to
// a second worker while its first send may still be unrecorded.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/ratelimit"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/tokens"
)

// Store is what the dispatcher needs from storage.
type Store interface {
	Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]message.Message, error)
	Record(ctx context.Context, id string, fence int64, a *message.Attempt, u storage.Update) error
	PauseApp(ctx context.Context, p message.Pause) error
	Pauses(ctx context.Context) ([]message.Pause, error)
	ResumeApp(ctx context.Context, app string, now time.Time) (int, error)
}

// Observer receives delivery events (metrics). Any method may be a no-op.
type Observer interface {
	Sent(app, platform string, d time.Duration)
	Delivered(app, platform string)
	// Failed: a message ended failed or rejected, with the platform's
	// code and the reason.
	Failed(app, platform, code string, why reason.Reason)
	// Retried: an attempt failed and the message will be tried again.
	Retried(app, platform string, outcome message.Outcome, why reason.Reason)
	// OutcomeWritten reports how long recording an outcome took, retries
	// included.
	OutcomeWritten(d time.Duration)
	// LeaseLost counts outcomes the store refused because the message had
	// been claimed again since (storage.ErrLeaseLost).
	LeaseLost(app string)
	// CredentialsRefused: the platform refused the app's credentials or
	// configuration (reason is its code and message).
	CredentialsRefused(app, reason string)
}

// App is one app's delivery runtime.
type App struct {
	Name         string
	Platform     string
	Client       platform.Client
	Shaper       *ratelimit.Shaper
	ContentCheck bool
	// Consent is the app's consent ledger; nil: none.
	Consent ConsentGate

	// gate orders a resume against workers holding messages back for the
	// app's pause: a worker holds it (read) from seeing the pause until
	// the held message is written, and Resume takes it (write) to end the
	// pause, so no message is put back until the old pause's end after the
	// resume has made the held ones due.
	gate sync.RWMutex
}

// ConsentGate is an app's consent ledger as the dispatcher asks it
// (consent.Gate). Settle with consent.Used must return without waiting on
// anything: the dispatcher gives that call no deadline of its own (only
// the shutdown's), since a used credit was taken at Admit. A gate with a
// Blind method answering true must answer Admit without waiting either:
// the send's timeout then runs from before it.
type ConsentGate interface {
	Admit(ctx context.Context, user, templateID string) (consent.Ticket, error)
	Settle(ctx context.Context, t consent.Ticket, r consent.Result) error
}

// Dispatcher runs the delivery loop. Create with New, start with Run.
type Dispatcher struct {
	store Store
	apps  map[string]*App
	cfg   config.Delivery
	log   *slog.Logger
	obs   Observer
	now   func() time.Time

	pauseSync time.Duration

	wake     chan struct{}
	idle     chan struct{} // a worker finished a message
	inflight atomic.Int64
	stopping atomic.Bool
	// unwritten counts outcomes a worker holds because writing them
	// failed; no claim happens while it is above zero.
	unwritten atomic.Int64
	// pendingWait is set while the loop waits for pending outcomes: every
	// finished message wakes it then, not only a claim's worth of them.
	pendingWait atomic.Bool
	// hardStop ends when Run gives up waiting for in-flight work (the
	// shutdown timeout): outcome writes keep trying until then.
	hardStop context.Context
}

// Option configures a Dispatcher.
type Option func(*Dispatcher)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(d *Dispatcher) { d.now = now } }

// WithObserver sets the metrics observer.
func WithObserver(o Observer) Option { return func(d *Dispatcher) { d.obs = o } }

// WithPauseSync sets how often the stored pauses are read back (default
// DefaultPauseSync): a pause another instance stored, or one an operator
// ended there, reaches this one within it.
func WithPauseSync(every time.Duration) Option { return func(d *Dispatcher) { d.pauseSync = every } }

// DefaultPauseSync is how often the dispatcher reads the stored pauses.
const DefaultPauseSync = time.Second

// New returns a dispatcher over store for apps (by name).
func New(store Store, apps map[string]*App, cfg config.Delivery, log *slog.Logger, opts ...Option) *Dispatcher {
	d := &Dispatcher{store: store, apps: apps, cfg: cfg, log: log, obs: nopObserver{}, now: time.Now,
		pauseSync: DefaultPauseSync, wake: make(chan struct{}, 1), idle: make(chan struct{}, 1)}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Wake tells the loop new messages are due (an API call just queued some),
// so it claims at once instead of at the next poll.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// InFlight is the number of messages being processed.
func (d *Dispatcher) InFlight() int { return int(d.inflight.Load()) }

// maxClaimBackoff caps the wait between claims while the store fails.
const maxClaimBackoff = 5 * time.Second

// maxGather caps how long the loop waits after a wake-up for more
// messages to claim in the same transaction (a quarter of the poll
// interval, at most this).
const maxGather = 5 * time.Millisecond

// maxShapeWait is the longest a worker sleeps for the app's rate limit
// before handing the message back to storage for later.
const maxShapeWait = 200 * time.Millisecond

// Retrying an outcome the store could not write: from this wait, doubling
// up to the cap.
const (
	recordRetryMin = 50 * time.Millisecond
	recordRetryMax = 2 * time.Second
)

// Run claims and delivers until ctx ends, then stops claiming, lets
// in-flight sends finish (within cfg.ShutdownTimeout) and hands claimed but
// unstarted messages back to the queue.
func (d *Dispatcher) Run(ctx context.Context) error {
	// The stored pauses hold the apps before the first claim: a pause
	// outlives a restart.
	d.syncPauses(ctx)
	syncDone := make(chan struct{})
	go func() {
		defer close(syncDone)
		t := time.NewTicker(d.pauseSync)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				d.syncPauses(ctx)
			}
		}
	}()
	defer func() { <-syncDone }()
	work := make(chan message.Message)
	var wg sync.WaitGroup
	// Sends run on a context that outlives ctx, so shutdown finishes them.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	d.hardStop = sendCtx
	// While a backlog is due (the last claim was as large as asked), the
	// loop claims again as soon as enough workers are free (a quarter of
	// them, or a batch), woken by the workers themselves: waiting for the
	// poll timer would leave workers idle between polls, and claiming for
	// every single free worker would spend a transaction per message.
	threshold := max(1, min(d.cfg.Batch, d.cfg.Workers/4))
	for range d.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				d.process(sendCtx, m)
				free := d.cfg.Workers - int(d.inflight.Add(-1))
				// The loop acts on a finished message only once a
				// claim's worth of workers is free, or while it waits for
				// a pending outcome (below): waking it for every message
				// cost a wake-up and a timer each (issue 15).
				if free < threshold && !d.pendingWait.Load() {
					continue
				}
				select {
				case d.idle <- struct{}{}:
				default:
				}
			}
		}()
	}
	gather := min(maxGather, d.cfg.PollInterval/4)
	backlog, polled := false, false
	backoff := d.cfg.PollInterval
	t := time.NewTimer(backoff)
	t.Stop()
	for ctx.Err() == nil {
		free := d.cfg.Workers - int(d.inflight.Load())
		// An outcome waiting to be written belongs to a message whose
		// lease may run out meanwhile: a claim now could hand it to a
		// second worker and send it twice. Claims wait until it is written.
		pending := d.unwritten.Load() > 0
		if free > 0 && !pending && (!backlog || polled || free >= threshold) {
			asked := min(free, d.cfg.Batch)
			msgs, err := d.store.Claim(ctx, d.now(), asked, d.cfg.Lease)
			if err != nil && ctx.Err() == nil {
				d.log.Error("claim messages", "err", err)
				// A store that keeps failing (disk full, locked) is polled
				// less and less often, not every poll interval.
				backoff = min(2*backoff, maxClaimBackoff)
				backlog = false
				t := time.NewTimer(backoff)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
				continue
			}
			backoff = d.cfg.PollInterval
		handOut:
			for i, m := range msgs {
				d.inflight.Add(1)
				select {
				case work <- m:
				case <-ctx.Done():
					// Shutting down: hand back what no worker took, once,
					// and stop handing out (a later select could still
					// pick a free worker for a message already released).
					for _, r := range msgs[i:] {
						d.release(r, d.now())
					}
					d.inflight.Add(-1) // only msgs[i] was counted
					break handOut
				}
			}
			backlog = len(msgs) > 0 && len(msgs) == asked
			if backlog && free-len(msgs) >= threshold {
				continue // more may be due, and workers are free for them
			}
		}
		var idle <-chan struct{}
		if backlog || pending {
			idle = d.idle
		}
		// Workers signal idle below the threshold only while this is set;
		// read again after setting it, so an outcome written meanwhile is
		// seen either here or by its worker.
		d.pendingWait.Store(pending)
		if pending && d.unwritten.Load() == 0 {
			d.pendingWait.Store(false)
			continue
		}
		polled = false
		// One timer for the loop's waits, reset each time (Go 1.23+: a
		// Reset timer never delivers a stale tick).
		t.Reset(backoff)
		select {
		case <-ctx.Done():
		case <-d.wake:
			if !backlog {
				// New messages, one API call each: gather a few more
				// before claiming. A claim is a write transaction, and at
				// 1,000 accepted messages a second one claim per message
				// cost more CPU than the send (docs/performance.md).
				t.Reset(gather)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
		case <-idle:
		case <-t.C:
			// Claim for any free worker at least once a poll interval,
			// even below the threshold (slow sends must not starve the
			// few workers that are free).
			polled = true
		}
		t.Stop()
	}
	d.stopping.Store(true)
	close(work)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d.cfg.ShutdownTimeout):
		cancelSends()
		<-done
		return errors.New("shutdown timeout: in-flight sends were cancelled; their leases will expire and they will be retried")
	}
	return nil
}

// release hands a claimed message back without an attempt.
func (d *Dispatcher) release(m message.Message, at time.Time) { d.putBack(m, at, false) }

// putBack hands a claimed message back without an attempt; held marks it
// as put back by the app's pause (a resume makes it due at once).
func (d *Dispatcher) putBack(m message.Message, at time.Time, held bool) {
	status := message.StatusQueued
	if m.Retries > 0 || m.LastCode != "" {
		status = message.StatusRetrying
	}
	d.record(m, nil, storage.Update{Status: status, NextAttemptAt: at, LastCode: m.LastCode, LastError: m.LastError,
		Reason: m.Reason, Held: held})
}

// syncPauses reads the stored pauses into the apps' shapers: a pause
// stored by another instance (or before a restart) holds the app here
// too, and one that is gone there (an operator resumed the app) ends here,
// unless it was set here since the read began.
func (d *Dispatcher) syncPauses(ctx context.Context) {
	started := time.Now()
	ps, err := d.store.Pauses(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("read the apps' pauses", "err", err)
		}
		return
	}
	now := d.now()
	active := map[string]time.Time{}
	for _, p := range ps {
		if p.Until.After(now) {
			active[p.App] = p.Until
		}
	}
	for name, app := range d.apps {
		if until, ok := active[name]; ok {
			app.Shaper.Pause(until)
			continue
		}
		app.gate.Lock()
		ended := app.Shaper.ResumeIfSetBefore(started, now)
		if ended {
			// Resumed elsewhere: what this instance put back since that
			// resume is held until the old pause's end. Release it.
			if _, err := d.store.ResumeApp(ctx, name, d.now()); err != nil && ctx.Err() == nil {
				d.log.Warn("release the messages held by a pause resumed elsewhere", "app", name, "err", err)
			}
		}
		app.gate.Unlock()
		if ended {
			d.log.Info("app resumed elsewhere", "app", name)
			d.Wake()
		}
	}
}

// ErrUnknownApp: no app of that name is configured.
var ErrUnknownApp = errors.New("unknown app")

// Resume ends app's pause now: its shaper admits sends again, its stored
// pause goes, and the messages the pause held are due at once. It returns
// how many messages it made due.
func (d *Dispatcher) Resume(ctx context.Context, name string) (int, error) {
	app, ok := d.apps[name]
	if !ok {
		return 0, fmt.Errorf("resume %q: %w", name, ErrUnknownApp)
	}
	// Under the gate: no worker puts a message back for the old pause
	// between the shaper's resume and the store's.
	app.gate.Lock()
	app.Shaper.Resume()
	n, err := d.store.ResumeApp(ctx, name, d.now())
	app.gate.Unlock()
	if err != nil {
		return 0, err
	}
	d.log.Info("app resumed by an operator", "app", name, "messages_due", n)
	d.Wake()
	return n, nil
}

func (d *Dispatcher) process(ctx context.Context, m message.Message) {
	app, ok := d.apps[m.App]
	if !ok {
		a := &message.Attempt{At: d.now(), Kind: message.KindSend, Outcome: message.OutcomePermanent, Code: "unknown_app",
			Message: "app " + m.App + " is no longer configured", Reason: reason.AppNotConfigured}
		d.record(m, a, storage.Update{Status: message.StatusFailed, LastCode: a.Code, LastError: a.Message, Reason: a.Reason})
		return
	}
	if d.stopping.Load() {
		d.release(m, d.now())
		return
	}
	// The send must end while the lease the store granted holds, less a
	// margin to record the outcome: after Until the message may be claimed
	// again. Until is on the dispatcher's clock (the claim's now plus the
	// lease), and the store counted it from when the claim was asked for,
	// so time spent waiting for the store only shortens it. The margin is
	// a tenth of the lease.
	margin := d.cfg.Lease / 10
	deadline := time.Now().Add(m.Lease.Until.Sub(d.now()) - margin)
	if time.Until(deadline) < d.sendNeeds() {
		d.release(m, d.now()) // no time left to send inside the lease
		return
	}
	now := d.now()
	app.gate.RLock()
	ok, wait, retryAt := app.Shaper.Admit(m.To, now, maxShapeWait)
	if !ok {
		// Held back by the app's pause, the message is marked so that a
		// resume finds it; under the gate, so a resume waits for it.
		_, paused := app.Shaper.Paused(now)
		d.putBack(m, retryAt, paused)
		app.gate.RUnlock()
		return
	}
	app.gate.RUnlock()
	if wait > 0 {
		time.Sleep(wait)
		// The wait for the app's rate came out of the lease too: a send
		// started with less than it needs would be cut by the lease.
		if time.Until(deadline) < d.sendNeeds() {
			d.release(m, d.now())
			return
		}
	}
	// The send ends at its own timeout or the lease's deadline, whichever
	// comes first. When nothing that may wait comes before it — no content
	// check, a consent gate that does not read the store — one context
	// (one timer) serves both, counted from here (issue 15: two per
	// message were ~2 % of the CPU). Otherwise the checks run under the
	// lease's deadline and the send's timeout starts after them, so a
	// slow check never shortens the send (see sendNeeds).
	oneCtx := !app.ContentCheck && blindGate(app.Consent)
	var (
		lctx        context.Context
		cancelLease context.CancelFunc
	)
	if oneCtx {
		lctx, cancelLease = context.WithDeadline(ctx, earlier(deadline, time.Now().Add(d.cfg.SendTimeout)))
	} else {
		lctx, cancelLease = context.WithDeadline(ctx, deadline)
	}
	defer cancelLease()
	if app.ContentCheck {
		if done := d.contentCheck(lctx, app, m); done {
			return
		}
		if lctx.Err() != nil {
			d.release(m, d.now()) // no time left to send inside the lease
			return
		}
	}
	ticket, gated, done := d.admit(lctx, app, m)
	if done {
		return
	}
	sctx, cancel := lctx, context.CancelFunc(func() {})
	if !oneCtx {
		sctx, cancel = context.WithTimeout(lctx, d.cfg.SendTimeout)
	}
	refreshes := &tokenAttempts{}
	sctx = tokens.WithFetchObserver(sctx, refreshes.add)
	start := time.Now()
	res, err := app.Client.Send(sctx, platform.Send{To: m.To, TemplateID: m.TemplateID, Data: m.Data, Page: m.Page})
	cancel()
	lat := time.Since(start)
	d.obs.Sent(app.Name, app.Platform, lat)
	if gated {
		d.settle(app, m, ticket, err)
	}
	a := &message.Attempt{At: d.now(), Kind: message.KindSend, LatencyMS: ms(lat)}
	if err == nil {
		a.Outcome, a.Code, a.Message = message.OutcomeDelivered, "0", "ok"
		d.record(m, a, storage.Update{Status: message.StatusDelivered, PlatformMsgID: res.MsgID, Attempts: refreshes.list()})
		d.obs.Delivered(app.Name, app.Platform)
		d.log.Debug("delivered", "id", m.ID, "app", app.Name, "msgid", res.MsgID, "latency", lat)
		return
	}
	if refreshes.failedWith(err) {
		// The send never reached the platform: the failed refresh is the
		// attempt, not a send that did not happen.
		rs := refreshes.list()
		a, rs = &rs[len(rs)-1], rs[:len(rs)-1]
		d.failed(app, m, a, err, rs...)
		return
	}
	d.failed(app, m, a, err, refreshes.list()...)
}

// blindGate reports whether g answers without reading the store (a nil
// gate, or a consent.Gate that is blind).
func blindGate(g ConsentGate) bool {
	if g == nil {
		return true
	}
	b, ok := g.(interface{ Blind() bool })
	return ok && b.Blind()
}

// earlier is the earlier of two instants.
func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// sendNeeds is the time left on the lease a send must have to start: its
// whole send timeout (at most eight tenths of the lease, so a fresh claim
// always has it). A send started with less would be cut by the lease's
// deadline rather than by its own timeout — and a send cut short is
// ambiguous: the platform may have delivered it, and the retry sends it
// again. That was TestNoDuplicatesWhileBroadcasting's flake at load 16–35:
// claims that waited on a busy writer came back with 0.2–0.6 s of a 2 s
// lease, the sends were cut after 219 and 616 ms while the platform
// delivered them, and each was sent twice without any crash. Handed back
// instead, the message is claimed again with a whole lease. (Time a
// content check takes after the claim still comes out of the send's: it
// is bounded by the check's own timeout, and handing the message back
// after every slow check could go on forever.)
func (d *Dispatcher) sendNeeds() time.Duration {
	return min(d.cfg.SendTimeout, d.cfg.Lease*8/10)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// tokenAttempts collects the token refreshes a send made, as attempts of
// kind token_refresh. A refresh that ends after the send gave up waiting
// for it arrives late and is not listed.
type tokenAttempts struct {
	mu      sync.Mutex
	done    bool
	items   []message.Attempt
	lastErr error // the last refresh's error
}

func (t *tokenAttempts) add(f tokens.Fetch) {
	a := message.Attempt{At: f.At, Kind: message.KindTokenRefresh, Outcome: message.OutcomeOK, Code: "0",
		Message: "access token fetched", LatencyMS: ms(f.Latency)}
	if f.Err != nil {
		a.Outcome, a.Reason = platform.Classify(f.Err), platform.ReasonOf(f.Err)
		a.Code, a.Message = "transport", f.Err.Error()
		var pe *platform.Error
		if errors.As(f.Err, &pe) {
			a.Code, a.Message = pe.Code, pe.Message
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.done {
		t.items = append(t.items, a)
		t.lastErr = f.Err
	}
}

// list returns the refreshes so far and closes the list.
func (t *tokenAttempts) list() []message.Attempt {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done = true
	return t.items
}

// failedWith reports whether the send failed with its last refresh's
// error: the token could not be had, so the send itself was never made.
func (t *tokenAttempts) failedWith(err error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastErr != nil && errors.Is(err, t.lastErr)
}

// admit asks the app's consent gate about m. done: m is settled here —
// held back by the ledger (rejected, not_subscribed: no platform call, no
// credit spent) or handed back because the ledger could not be read.
// gated: Settle must follow the send.
func (d *Dispatcher) admit(ctx context.Context, app *App, m message.Message) (t consent.Ticket, gated, done bool) {
	if app.Consent == nil {
		return t, false, false
	}
	t, err := app.Consent.Admit(ctx, m.To, m.TemplateID)
	if err != nil {
		// Whether the user said no is unknown: try again later rather
		// than send to someone who may have.
		d.log.Error("consent ledger unreadable: the message waits", "id", m.ID, "app", app.Name, "err", err)
		d.release(m, d.now().Add(jitter(d.cfg.BackoffBase)))
		return t, false, true
	}
	if t.Send {
		return t, true, false
	}
	a := &message.Attempt{At: d.now(), Kind: message.KindSend, Outcome: message.OutcomeRejected,
		Code: string(reason.NotSubscribed), Reason: reason.NotSubscribed,
		Message: "not sent: the consent ledger knows the user " + heldWhy(t.Reason)}
	d.record(m, a, storage.Update{Status: message.StatusRejected, LastCode: a.Code, LastError: a.Message,
		Reason: reason.NotSubscribed})
	d.obs.Failed(app.Name, app.Platform, a.Code, a.Reason)
	d.log.Info("message held back by the consent ledger", "id", m.ID, "app", app.Name, "reason", t.Reason)
	return t, false, true
}

func heldWhy(reason string) string {
	if reason == consent.ReasonRejected {
		return "rejected the template"
	}
	return "has no one-time subscription left for the template"
}

// settle tells the consent gate how the send ended: a not-subscribed
// answer is learned, a credit the send did not use goes back.
func (d *Dispatcher) settle(app *App, m message.Message, t consent.Ticket, err error) {
	r := consent.NotSent
	switch {
	case err == nil:
		r = consent.Used
	case platform.NotSubscribed(err):
		r = consent.Refused
	}
	// Not the send's context: its deadline may have passed, and the
	// ledger is worth keeping right. A used credit was taken at Admit, so
	// settling it writes nothing (consent.Gate.Settle returns at once):
	// no timer for it, which every delivered message made (issue 15).
	ctx := d.hardStop
	if r != consent.Used {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(d.hardStop, d.cfg.SendTimeout)
		defer cancel()
	}
	if serr := app.Consent.Settle(ctx, t, r); serr != nil {
		d.log.Error("consent ledger not updated after a send", "id", m.ID, "app", app.Name, "err", serr)
	}
}

// failed applies the error taxonomy to a failed send. refreshes are the
// token refreshes the send made, recorded before its attempt.
func (d *Dispatcher) failed(app *App, m message.Message, a *message.Attempt, err error, refreshes ...message.Attempt) {
	a.Outcome, a.Reason = platform.Classify(err), platform.ReasonOf(err)
	var pe *platform.Error
	if errors.As(err, &pe) {
		a.Code, a.Message = pe.Code, pe.Message
	} else {
		a.Code, a.Message = "transport", err.Error()
	}
	u := storage.Update{LastCode: a.Code, LastError: a.Message, Reason: a.Reason, Attempts: refreshes}
	now := d.now()
	switch a.Outcome {
	case message.OutcomeCredentials:
		// The app itself was refused: no retry can succeed, and each would
		// call the platform's token endpoint again. Fail at once, with the
		// reason, and mark the app unhealthy (docs/delivery.md).
		u.Status = message.StatusFailed
		a.Message = "the platform refused the app's credentials or configuration: " + a.Message
		u.LastError = a.Message
		d.obs.CredentialsRefused(app.Name, a.Code+" "+a.Message)
	case message.OutcomePermanent, message.OutcomeRejected:
		u.Status = message.StatusFailed
		if a.Outcome == message.OutcomeRejected {
			u.Status = message.StatusRejected
		}
	case message.OutcomeThrottled:
		// The platform throttled the app: pause all its sends, not just this
		// one, and do not spend the message's retry budget. A transient
		// throttle (a per-second or per-minute cap) pauses for the
		// throttle backoff. A window (WeChat's daily quota resets at
		// Beijing midnight) is waited out: the platform's wait is a
		// minimum, jitter may only lengthen it, or a shorter pause comes
		// back inside the window and is throttled again.
		pause := jitter(d.cfg.ThrottleBackoff)
		if pe != nil && pe.Window && pe.RetryAfter > 0 {
			pause = max(pause, pe.RetryAfter+spread(pe.RetryAfter, d.cfg.ThrottleBackoff))
		}
		until := now.Add(pause)
		u.Status, u.NextAttemptAt, u.Held = message.StatusRetrying, until, true
		// Stored first, then applied, then the message written, all under
		// the gate: a resume sees the three together or none of them.
		app.gate.RLock()
		defer app.gate.RUnlock()
		d.storePause(message.Pause{App: app.Name, Until: until, Reason: a.Reason, Code: a.Code, Message: a.Message, Since: now})
		app.Shaper.Pause(until)
		d.log.Warn("platform throttled the app: pausing its sends", "app", app.Name, "code", a.Code,
			"reason", a.Reason, "err", a.Message, "until", until)
	default: // retryable, token (already refreshed once by the client)
		if m.Retries+1 >= d.cfg.MaxAttempts {
			u.Status = message.StatusFailed
		} else {
			u.Status, u.NextAttemptAt, u.CountRetry = message.StatusRetrying, now.Add(d.backoff(m.Retries+1)), true
		}
	}
	// Platform clients keep secrets and tokens out of their errors, so the
	// message can be logged as it is.
	if u.Status == message.StatusRetrying {
		d.obs.Retried(app.Name, app.Platform, a.Outcome, a.Reason)
		d.log.Info("send failed, will retry", "id", m.ID, "app", app.Name, "outcome", a.Outcome, "code", a.Code,
			"reason", a.Reason, "err", a.Message, "next_attempt_at", u.NextAttemptAt)
	} else {
		d.obs.Failed(app.Name, app.Platform, a.Code, a.Reason)
		d.log.Warn("message failed", "id", m.ID, "app", app.Name, "status", u.Status, "outcome", a.Outcome,
			"code", a.Code, "reason", a.Reason, "err", a.Message)
	}
	d.record(m, a, u)
}

// storePause writes an app's pause so that it outlives a restart and shows
// in the API. A pause that cannot be written still holds this process's
// sends (the shaper); it is logged.
func (d *Dispatcher) storePause(p message.Pause) {
	ctx, cancel := context.WithTimeout(d.hardStop, d.cfg.SendTimeout)
	defer cancel()
	if err := d.store.PauseApp(ctx, p); err != nil {
		d.log.Error("store the app's pause", "app", p.App, "until", p.Until, "err", err)
	}
}

// contentCheck runs the platform's content check; it reports whether the
// message is settled (rejected, or put back after a failed check).
func (d *Dispatcher) contentCheck(ctx context.Context, app *App, m message.Message) bool {
	texts := make([]string, 0, len(m.Data))
	for _, v := range m.Data {
		texts = append(texts, v)
	}
	cctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	v, err := app.Client.CheckContent(cctx, m.To, texts)
	cancel()
	switch {
	case errors.Is(err, platform.ErrUnsupported):
		return false
	case err != nil:
		d.failed(app, m, &message.Attempt{At: d.now()}, err)
		return true
	case v.Risky:
		a := &message.Attempt{At: d.now(), Kind: message.KindSend, Outcome: message.OutcomeRejected, Code: "risky:" + v.Label,
			Reason:  reason.RiskyContent,
			Message: "the platform's content check judged the content risky (label " + v.Label + ")"}
		d.record(m, a, storage.Update{Status: message.StatusRejected, LastCode: a.Code, LastError: a.Message, Reason: a.Reason})
		d.obs.Failed(app.Name, app.Platform, a.Code, a.Reason)
		d.log.Warn("message rejected by the platform's content check", "id", m.ID, "app", app.Name, "label", v.Label)
		return true
	}
	return false
}

// record writes a claimed message's outcome under its lease, and keeps
// trying while the store fails (disk full, I/O errors): an outcome dropped
// here would leave the message to be claimed and sent again once its lease
// runs out. Meanwhile no claim happens (unwritten). It gives up only when
// ctx ends (the shutdown timeout), or when the store refuses the outcome
// for good: the message was claimed again since (storage.ErrLeaseLost:
// the new owner's outcome stands) or is gone.
func (d *Dispatcher) record(m message.Message, a *message.Attempt, u storage.Update) {
	// Not the caller's context: that may be the lease's deadline, and a
	// write waiting for the store past it is still worth making.
	ctx := d.hardStop
	start := time.Now()
	wait, held := recordRetryMin, false
	defer func() {
		if held {
			d.unwritten.Add(-1)
		}
	}()
	for {
		err := d.store.Record(ctx, m.ID, m.Lease.Fence, a, u)
		switch {
		case err == nil:
			d.obs.OutcomeWritten(time.Since(start))
			return
		case errors.Is(err, storage.ErrLeaseLost):
			d.obs.LeaseLost(m.App)
			d.log.Error("outcome refused: the message was claimed again after this worker's lease ran out",
				"id", m.ID, "status", u.Status, "fence", m.Lease.Fence, "err", err)
			return
		case errors.Is(err, storage.ErrNotFound):
			d.log.Error("record outcome: message not found", "id", m.ID, "err", err)
			return
		case ctx.Err() != nil:
			// Shutting down past the timeout: the lease will run out and
			// the message will be sent again after a restart.
			d.log.Error("outcome not written before shutdown: the message will be sent again", "id", m.ID,
				"status", u.Status, "err", err)
			return
		}
		if !held {
			held = true
			d.unwritten.Add(1)
		}
		d.log.Error("record outcome: will retry; claims wait until it is written", "id", m.ID, "status", u.Status,
			"err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		wait = min(2*wait, recordRetryMax)
	}
}

// backoff is exponential from BackoffBase, capped at BackoffMax, with
// jitter so retries of many messages do not arrive together.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.cfg.BackoffBase
	for i := 1; i < n && b < d.cfg.BackoffMax; i++ {
		b *= 2
	}
	return jitter(min(b, d.cfg.BackoffMax))
}

// spread returns a random extra wait for a platform-given pause: up to 5%
// of it, at most limit, so that instances told the same wait do not all
// return at the same instant.
func spread(d, limit time.Duration) time.Duration {
	return rand.N(min(d/20, limit) + 1)
}

// jitter returns a duration in [d/2, d].
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

type nopObserver struct{}

func (nopObserver) Sent(string, string, time.Duration)                     {}
func (nopObserver) Delivered(string, string)                               {}
func (nopObserver) Failed(string, string, string, reason.Reason)           {}
func (nopObserver) Retried(string, string, message.Outcome, reason.Reason) {}
func (nopObserver) OutcomeWritten(time.Duration)                           {}
func (nopObserver) LeaseLost(string)                                       {}
func (nopObserver) CredentialsRefused(string, string)                      {}
