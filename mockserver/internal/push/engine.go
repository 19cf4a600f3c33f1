package push

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minipush/minipush/mockserver/internal/clock"
	"github.com/minipush/minipush/mockserver/internal/faults"
	"github.com/minipush/minipush/mockserver/internal/ring"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Options bound the engine. The zero value of a field means its default.
type Options struct {
	// Queue is how many pushes may wait per app; beyond it the oldest
	// waiting push is dropped (counted, and journaled as dropped).
	Queue int
	// Concurrency is how many deliveries of one app may be in flight.
	Concurrency int
	// Timeout cuts an attempt the receiver has not answered: WeChat and
	// Douyin both document 5 s.
	Timeout time.Duration
	// Retries is how often a failed push is sent again: "总共重试三次"
	// (WeChat), "共重试 3 次" (Douyin).
	Retries int
	// RetryDelay is the pause before a re-send. Neither platform documents
	// one (UNCONFIRMED); the default is 1 s.
	RetryDelay time.Duration
	// JournalLimit bounds the journal of attempts.
	JournalLimit int
	// Transport, when set, carries the pushes instead of the engine's own
	// (tests use it to keep pushes off the network).
	Transport http.RoundTripper
}

// Defaults.
const (
	DefaultQueue        = 1000
	DefaultConcurrency  = 4
	DefaultTimeout      = 5 * time.Second
	DefaultRetries      = 3
	DefaultRetryDelay   = time.Second
	DefaultJournalLimit = 10_000
)

func (o Options) withDefaults() Options {
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Retries < 0 {
		o.Retries = 0
	} else if o.Retries == 0 {
		o.Retries = DefaultRetries
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	if o.JournalLimit <= 0 {
		o.JournalLimit = DefaultJournalLimit
	}
	return o
}

// NoRetries is the Options.Retries that turns re-sends off (0 means the
// default).
const NoRetries = -1

// maxRecorded bounds what the journal keeps of a body or an answer.
const maxRecorded = 64 << 10

type appKey struct{ platform, appID string }

// appState is one app's settings and queue.
type appState struct {
	key      appKey
	cfg      *Config
	queue    []*job
	active   int // workers running for this app
	inFlight int
}

type job struct {
	id, key string
	ev      Event
	gen     *generation
}

// generation is the life of the engine between two resets: a reset ends it,
// so deliveries still in flight stop and journal nothing.
type generation struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newGeneration() *generation {
	ctx, cancel := context.WithCancel(context.Background())
	return &generation{ctx: ctx, cancel: cancel}
}

// Engine delivers pushes. Safe for concurrent use; a value, so several mock
// servers run side by side.
type Engine struct {
	opts      Options
	clock     *clock.Clock
	faults    *faults.Set
	log       *slog.Logger
	client    *http.Client
	transport *http.Transport
	codecs    map[string]Codec
	journal   *ring.Ring[mockapi.Push]

	// configured counts the apps with push settings: a platform call of an
	// app without any (the common case) learns it without the lock.
	configured atomic.Int64

	mu     sync.Mutex
	apps   map[appKey]*appState
	gen    *generation
	closed bool
	seq    uint64
	stats  mockapi.PushQueue // Queued and InFlight are computed on read
	wg     sync.WaitGroup
}

// New returns an engine that reads the mock clock and the injected faults.
// Register the platforms' codecs before use.
func New(c *clock.Clock, f *faults.Set, log *slog.Logger, opts Options) *Engine {
	opts = opts.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := &http.Transport{
		// Loopback and the developer's own network only: never a proxy
		// from the environment.
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: opts.Timeout}).DialContext,
		MaxIdleConnsPerHost: opts.Concurrency,
		IdleConnTimeout:     30 * time.Second,
	}
	var rt http.RoundTripper = tr
	if opts.Transport != nil {
		rt = opts.Transport
	}
	return &Engine{
		opts: opts, clock: c, faults: f, log: log, transport: tr,
		client: &http.Client{
			Transport: rt,
			Timeout:   opts.Timeout,
			// A redirect is an answer, not an invitation: the platforms
			// push to the configured URL only (UNCONFIRMED; the safe reading).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		codecs:  map[string]Codec{},
		journal: ring.New[mockapi.Push](opts.JournalLimit),
		apps:    map[appKey]*appState{},
		gen:     newGeneration(),
	}
}

// Register sets the codec of a platform that pushes.
func (e *Engine) Register(platform string, c Codec) {
	e.mu.Lock()
	e.codecs[platform] = c
	e.mu.Unlock()
}

// Pushes reports whether a platform pushes at all.
func (e *Engine) Pushes(platform string) bool {
	_, ok := e.codec(platform)
	return ok
}

func (e *Engine) codec(platform string) (Codec, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.codecs[platform]
	return c, ok
}

// Options returns the engine's bounds (defaults filled in).
func (e *Engine) Options() Options { return e.opts }

// CheckConfig validates an app's push settings with its platform's codec.
func (e *Engine) CheckConfig(app *store.App, in mockapi.PushConfig) (Config, string, error) {
	c, ok := e.codec(app.Platform)
	if !ok {
		return Config{}, "", ErrNoPush
	}
	return c.CheckConfig(app, in)
}

// SetConfig stores an app's push settings; nil removes them, and the pushes
// still waiting for the app are dropped.
func (e *Engine) SetConfig(platform, appID string, cfg *Config) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := appKey{platform, appID}
	st := e.apps[k]
	if cfg == nil {
		if st == nil {
			return
		}
		for _, j := range st.queue {
			e.stats.Dropped++
			e.recordLocked(j, mockapi.Push{Outcome: mockapi.PushDropped, Error: "the app's push settings were removed"})
		}
		if st.cfg != nil {
			e.configured.Add(-1)
		}
		st.queue, st.cfg = nil, nil
		return
	}
	if st == nil {
		st = &appState{key: k}
		e.apps[k] = st
	}
	if st.cfg == nil {
		e.configured.Add(1)
	}
	c := *cfg
	st.cfg = &c
}

// Config returns an app's push settings.
func (e *Engine) Config(platform, appID string) (Config, bool) {
	if e.configured.Load() == 0 {
		return Config{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.apps[appKey{platform, appID}]
	if st == nil || st.cfg == nil {
		return Config{}, false
	}
	return *st.cfg, true
}

// Enqueue queues ev for delivery and returns the push's id at once; it
// never waits for the receiver. It queues nothing (ok false) when the app
// has no push settings — the platform has nowhere to push — or the engine
// is shut down.
func (e *Engine) Enqueue(ev Event) (id string, ok bool) {
	if e.configured.Load() == 0 {
		return "", false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.apps[appKey{ev.Platform, ev.AppID}]
	if e.closed || st == nil || st.cfg == nil {
		return "", false
	}
	e.seq++
	j := &job{id: "p" + strconv.FormatUint(e.seq, 10), key: randomHex(16), ev: ev, gen: e.gen}
	st.queue = append(st.queue, j)
	e.stats.Enqueued++
	if len(st.queue) > e.opts.Queue {
		// Drop the oldest: the newest events describe the user's current
		// state, and a test waiting for its push should not lose it to a
		// backlog of older ones.
		old := st.queue[0]
		st.queue[0] = nil
		st.queue = st.queue[1:]
		e.stats.Dropped++
		e.recordLocked(old, mockapi.Push{Outcome: mockapi.PushDropped,
			Error: fmt.Sprintf("queue full: more than %d pushes waiting for this app; the oldest was dropped", e.opts.Queue)})
	}
	if st.active < e.opts.Concurrency {
		st.active++
		e.wg.Add(1)
		go e.work(st, e.gen)
	}
	return j.id, true
}

// work delivers an app's queued pushes until its queue is empty.
func (e *Engine) work(st *appState, gen *generation) {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		if gen != e.gen || len(st.queue) == 0 || st.cfg == nil {
			st.active--
			e.mu.Unlock()
			return
		}
		j := st.queue[0]
		st.queue[0] = nil
		st.queue = st.queue[1:]
		cfg := *st.cfg
		codec := e.codecs[st.key.platform]
		st.inFlight++
		e.mu.Unlock()

		e.deliver(codec, cfg, j)

		e.mu.Lock()
		st.inFlight--
		e.mu.Unlock()
	}
}

// deliver sends one push, re-sending it on failure as the platforms do.
func (e *Engine) deliver(codec Codec, cfg Config, j *job) {
	ctx := j.gen.ctx
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			e.drop(j, attempt, "the mock was reset or shut down before the push went out")
			return
		}
		rec := mockapi.Push{Attempt: attempt}
		act, fired := e.faults.Match(faults.Call{Platform: j.ev.Platform, Endpoint: EndpointPush,
			AppID: j.ev.AppID, OpenID: j.ev.OpenID, Exact: true})
		if fired {
			rec.Fault = act.ID
			if !sleep(ctx, act.Latency) {
				e.drop(j, attempt, "the mock was reset or shut down before the push went out")
				return
			}
			if act.Drop {
				rec.Outcome, rec.Error = mockapi.PushDropped, "dropped by fault "+act.ID+": the platform never sends it"
				e.count(j, func(s *mockapi.PushQueue) { s.Dropped++ })
				e.record(j, rec)
				return
			}
		}
		rec.Time = e.clock.Now()
		req, err := codec.Encode(cfg, &j.ev, Attempt{Now: rec.Time, Number: attempt, ID: j.id, Key: j.key, Corrupt: act.Corrupt})
		if err != nil {
			rec.Outcome, rec.Error = mockapi.PushFailed, "encode: "+err.Error()
			e.count(j, func(s *mockapi.PushQueue) { s.Failed++ })
			e.record(j, rec)
			return
		}
		status, answer, latency, err := e.send(ctx, req)
		if err == nil {
			err = codec.Accept(status, answer)
		}
		fillRecord(&rec, req, status, answer, latency, err)
		switch {
		case err == nil:
			rec.Outcome = mockapi.PushDelivered
			e.count(j, func(s *mockapi.PushQueue) { s.Delivered++ })
		case ctx.Err() != nil:
			e.drop(j, attempt, "the mock was reset or shut down while the push was in flight")
			return
		case attempt < e.opts.Retries:
			rec.Outcome = mockapi.PushRetry
		default:
			rec.Outcome = mockapi.PushFailed
			e.count(j, func(s *mockapi.PushQueue) { s.Failed++ })
		}
		e.record(j, rec)
		e.log.Debug("push attempt", "platform", j.ev.Platform, "app_id", j.ev.AppID, "event", j.ev.Name,
			"id", j.id, "attempt", attempt, "status", status, "outcome", rec.Outcome)
		if rec.Outcome != mockapi.PushRetry {
			return
		}
		if !sleep(ctx, e.opts.RetryDelay) {
			e.drop(j, attempt+1, "the mock was reset or shut down before the re-send")
			return
		}
	}
}

func fillRecord(rec *mockapi.Push, req *Request, status int, answer []byte, latency time.Duration, err error) {
	rec.Method, rec.URL = req.Method, req.URL
	rec.ContentType = req.Header.Get("Content-Type")
	rec.Body = truncate(req.Body)
	rec.Status, rec.Answer = status, truncate(answer)
	rec.LatencyMS = float64(latency.Microseconds()) / 1000
	if err != nil {
		rec.Error = err.Error()
	}
}

func truncate(b []byte) string {
	if len(b) > maxRecorded {
		return string(b[:maxRecorded]) + "…(truncated)"
	}
	return string(b)
}

func (e *Engine) drop(j *job, attempt int, why string) {
	e.count(j, func(s *mockapi.PushQueue) { s.Dropped++ })
	e.record(j, mockapi.Push{Attempt: attempt, Outcome: mockapi.PushDropped, Error: why})
}

// count updates the counters, unless a reset ended the push's generation.
func (e *Engine) count(j *job, f func(*mockapi.PushQueue)) {
	e.mu.Lock()
	if j.gen == e.gen {
		f(&e.stats)
	}
	e.mu.Unlock()
}

// record journals one attempt of j, unless a reset ended its generation
// (the journal was emptied; a stale entry would confuse the next test).
func (e *Engine) record(j *job, rec mockapi.Push) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recordLocked(j, rec)
}

func (e *Engine) recordLocked(j *job, rec mockapi.Push) {
	if j.gen != e.gen {
		return
	}
	rec.ID, rec.Platform, rec.AppID, rec.Event, rec.OpenID = j.id, j.ev.Platform, j.ev.AppID, j.ev.Name, j.ev.OpenID
	if rec.Time.IsZero() {
		rec.Time = e.clock.Now()
	}
	e.journal.AppendFunc(func(seq uint64) mockapi.Push {
		rec.Seq = seq + 1
		return rec
	})
}

// send makes one HTTP call and reads at most maxRecorded bytes of the
// answer.
func (e *Engine) send(ctx context.Context, r *Request) (status int, answer []byte, latency time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return 0, nil, 0, fmt.Errorf("build request: %w", unwrapURLError(err))
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "minipush-mock-push/1")
	if len(r.Body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	start := time.Now()
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, time.Since(start), describeSendError(err, e.opts.Timeout)
	}
	defer resp.Body.Close()
	answer, err = io.ReadAll(io.LimitReader(resp.Body, maxRecorded+1))
	latency = time.Since(start)
	if err != nil {
		return resp.StatusCode, answer, latency, fmt.Errorf("read answer: %w", describeSendError(err, e.opts.Timeout))
	}
	return resp.StatusCode, answer, latency, nil
}

// describeSendError says what went wrong without repeating the URL.
func describeSendError(err error, timeout time.Duration) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("no answer within %v: the platform cuts the connection", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Verify runs the URL-verification handshake of an app's push settings now
// and journals it. It fails only when the app has no push settings.
func (e *Engine) Verify(ctx context.Context, platform, appID string) (mockapi.VerifyResult, error) {
	cfg, ok := e.Config(platform, appID)
	if !ok {
		return mockapi.VerifyResult{}, ErrNoSettings
	}
	codec, _ := e.codec(platform)
	e.mu.Lock()
	e.seq++
	j := &job{id: "p" + strconv.FormatUint(e.seq, 10), key: randomHex(16),
		ev: Event{Platform: platform, AppID: appID}, gen: e.gen}
	e.mu.Unlock()

	rec := mockapi.Push{}
	act, fired := e.faults.Match(faults.Call{Platform: platform, Endpoint: EndpointPush, AppID: appID, Exact: true})
	if fired {
		rec.Fault = act.ID
		if !sleep(ctx, act.Latency) {
			return mockapi.VerifyResult{}, ctx.Err()
		}
	}
	rec.Time = e.clock.Now()
	req, check, err := codec.Handshake(cfg, Attempt{Now: rec.Time, ID: j.id, Key: j.key, Corrupt: act.Corrupt})
	if err != nil {
		return mockapi.VerifyResult{}, fmt.Errorf("build handshake: %w", err)
	}
	j.ev.Name = req.Event
	var (
		status  int
		answer  []byte
		latency time.Duration
	)
	if fired && act.Drop {
		err = errors.New("dropped by fault " + act.ID + ": the handshake was never sent")
	} else {
		status, answer, latency, err = e.send(ctx, req)
		if err == nil {
			err = check(status, answer)
		}
	}
	fillRecord(&rec, req, status, answer, latency, err)
	rec.Outcome = mockapi.PushPassed
	if err != nil {
		rec.Outcome = mockapi.PushRejected
	}
	e.record(j, rec)
	return mockapi.VerifyResult{Passed: err == nil, URL: req.URL, Status: status, Body: rec.Answer,
		LatencyMS: rec.LatencyMS, Error: rec.Error}, nil
}

// ErrNoSettings is answered for an app without push settings.
var ErrNoSettings = errors.New("the app has no push settings")

// Journal is the journal of attempts, for filtering and waiting.
func (e *Engine) Journal() *ring.Ring[mockapi.Push] { return e.journal }

// Stats counts what the engine holds and has done since the last reset.
func (e *Engine) Stats() mockapi.PushQueue {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	for _, st := range e.apps {
		s.Queued += len(st.queue)
		s.InFlight += st.inFlight
	}
	return s
}

// Reset forgets every app's settings and queue, stops the deliveries in
// flight and empties the journal.
func (e *Engine) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gen.cancel()
	e.gen = newGeneration()
	e.apps = map[appKey]*appState{}
	e.configured.Store(0)
	e.stats = mockapi.PushQueue{}
	e.journal.Reset()
}

// Shutdown stops taking pushes and delivers those queued until ctx ends;
// then it stops the deliveries in flight and drops what is left (counted
// and journaled as dropped). It returns the number of pushes dropped.
func (e *Engine) Shutdown(ctx context.Context) int {
	e.mu.Lock()
	e.closed = true
	before := e.stats.Dropped
	e.mu.Unlock()
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		e.mu.Lock()
		e.gen.cancel()
		e.mu.Unlock()
		<-done
	}
	e.mu.Lock()
	for _, st := range e.apps {
		for _, j := range st.queue {
			e.stats.Dropped++
			e.recordLocked(j, mockapi.Push{Outcome: mockapi.PushDropped, Error: "the mock shut down before the push went out"})
		}
		st.queue = nil
	}
	dropped := int(e.stats.Dropped - before)
	e.mu.Unlock()
	e.transport.CloseIdleConnections()
	return dropped
}

// sleep waits d or until ctx ends; it reports whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
