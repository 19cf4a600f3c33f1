// Package mockserver is a faithful, stateful mock of the mini-program
// platforms' server APIs (WeChat, Alipay, Douyin, Kuaishou, Baidu) with a
// control API under /_mock/ to seed apps, users, templates and grants, read
// the inbox of delivered messages and the journal of calls, inject faults
// and move the clock, and (WithUI) a web UI under /_ui/ over the same state.
//
// A Server is a value: many can run side by side in one process. Serve its
// Handler on any listener, or use the mocktest package in tests.
package mockserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/clock"
	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/controlapi"
	"github.com/minipush/minipush/mockserver/internal/faults"
	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/push"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/ring"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/internal/ui"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Defaults.
const (
	DefaultInboxLimit   = 100_000
	DefaultJournalLimit = 100_000
	// DefaultJournalBodyLimit bounds the request body and the answer the
	// journal keeps of each call: typical sends and answers fit whole, and
	// a full default journal holds at most 100,000 × 2 × 2 KiB ≈ 400 MiB
	// of them (a few tens of MiB for typical traffic).
	DefaultJournalBodyLimit = 2048
)

type options struct {
	seed             mockapi.Seed
	inboxLimit       int
	journalLimit     int
	journalBodyLimit int
	logger           *slog.Logger
	controlToken     string
	ui               bool
	push             push.Options
}

// Option configures a Server.
type Option func(*options)

// WithSeed sets the state the server starts with and returns to on reset.
func WithSeed(s mockapi.Seed) Option { return func(o *options) { o.seed = s } }

// WithInboxLimit bounds the inbox; the oldest messages are dropped first.
func WithInboxLimit(n int) Option { return func(o *options) { o.inboxLimit = n } }

// WithJournalLimit bounds the request journal.
func WithJournalLimit(n int) Option { return func(o *options) { o.journalLimit = n } }

// WithJournalBodyLimit bounds the bytes of each call's request body and
// answer kept in the journal, secrets masked (0: keep neither; the query is
// always kept, masked).
func WithJournalBodyLimit(n int) Option { return func(o *options) { o.journalBodyLimit = max(n, 0) } }

// WithUI serves the web UI under /_ui/ (phone view, subscriptions,
// journal, control panel). Off by default for a library: a Go program
// embedding the mock gets exactly the API surface it asks for. The
// mockserver command turns it on unless -ui=false.
func WithUI(on bool) Option { return func(o *options) { o.ui = on } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithControlToken requires Authorization: Bearer token on the control API
// (/_mock/…), for a mock shared by several people or machines. The
// platforms' paths stay open and answer as the platforms do. Without it
// the control API is unauthenticated: the mock is a development tool.
func WithControlToken(token string) Option { return func(o *options) { o.controlToken = token } }

// Push defaults (the platforms' own figures where they document them).
const (
	DefaultPushQueue        = push.DefaultQueue
	DefaultPushConcurrency  = push.DefaultConcurrency
	DefaultPushTimeout      = push.DefaultTimeout
	DefaultPushRetries      = push.DefaultRetries
	DefaultPushRetryDelay   = push.DefaultRetryDelay
	DefaultPushJournalLimit = push.DefaultJournalLimit
)

// WithPushQueue bounds the pushes waiting per app; beyond it the oldest
// waiting push is dropped (counted and journaled).
func WithPushQueue(n int) Option { return func(o *options) { o.push.Queue = n } }

// WithPushConcurrency bounds the deliveries in flight per app.
func WithPushConcurrency(n int) Option { return func(o *options) { o.push.Concurrency = n } }

// WithPushTimeout sets how long a push waits for the receiver's answer
// (the platforms: 5 s). Tests shorten it.
func WithPushTimeout(d time.Duration) Option { return func(o *options) { o.push.Timeout = d } }

// WithPushRetries sets how often a failed push is sent again (the
// platforms: 3); a negative n turns re-sends off.
func WithPushRetries(n int) Option { return func(o *options) { o.push.Retries = n } }

// WithPushRetryDelay sets the pause before a re-send (default 1 s).
func WithPushRetryDelay(d time.Duration) Option { return func(o *options) { o.push.RetryDelay = d } }

// WithPushTransport carries the pushes over rt instead of the mock's own
// HTTP transport (for tests that must keep pushes off the network).
func WithPushTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.push.Transport = rt }
}

// WithPushJournalLimit bounds the journal of push attempts.
func WithPushJournalLimit(n int) Option { return func(o *options) { o.push.JournalLimit = n } }

// Server is one mock platform instance.
type Server struct {
	opts    options
	env     *platform.Env
	emus    []emulator
	control *controlapi.API
	ui      *ui.UI
	handler http.Handler
	// router is the handler's route table (its tests walk it).
	router *mux.Router
	// exact serves the plain platform paths before the router
	// (dispatch.go).
	exact   *exactPaths
	resetMu sync.Mutex
	ready   atomic.Bool
}

// New builds a server and loads its seed. It fails when the seed is invalid,
// naming the bad field.
func New(opts ...Option) (*Server, error) {
	o := options{inboxLimit: DefaultInboxLimit, journalLimit: DefaultJournalLimit, journalBodyLimit: DefaultJournalBodyLimit}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	env := &platform.Env{
		Store:   store.New(),
		Clock:   &clock.Clock{},
		Faults:  faults.New(),
		Content: content.New(o.seed.ContentRules),
		Quota:   quota.New(),
		Inbox:   ring.New[mockapi.Message](o.inboxLimit),
		Journal: ring.New[mockapi.Request](o.journalLimit),
		Log:     o.logger,

		CaptureLimit: o.journalBodyLimit,
	}
	env.Push = push.New(env.Clock, env.Faults, o.logger, o.push)
	s := &Server{opts: o, env: env}
	s.emus = emulators(env)
	for _, e := range s.emus {
		if p, ok := e.(pusher); ok {
			env.Push.Register(e.Name(), p.PushCodec())
		}
	}
	byName := map[string]controlapi.Platform{}
	for _, e := range s.emus {
		byName[e.Name()] = e
	}
	s.control = controlapi.New(env, byName, func() { _ = s.Reset() }, s.ready.Load)

	r := mux.NewRouter()
	// Platforms first: a platform's own control routes (/_mock/<platform>/…)
	// must match before the control API's /_mock catch-all.
	for _, e := range s.emus {
		e.Routes(r)
	}
	s.control.Routes(r)
	if o.ui {
		u, err := ui.New(s.control, env, ui.Options{Token: o.controlToken})
		if err != nil {
			return nil, err
		}
		s.ui = u
		u.Routes(r)
	}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":"no such path on the mock: platform APIs live at their real paths, the control API under /_mock/"}`+"\n")
	})
	s.router = r
	s.exact = newExactPaths(r)
	s.handler = recoverer(o.logger, controlapi.RequireToken(o.controlToken, s.exact))
	if err := s.Reset(); err != nil {
		return nil, err
	}
	s.ready.Store(true)
	return s, nil
}

// Handler serves the platform APIs, the control API and (WithUI) the web UI.
func (s *Server) Handler() http.Handler { return s.handler }

// ControlToken is the token the control API requires ("" when open), for
// test helpers that build a control client for this server.
func (s *Server) ControlToken() string { return s.opts.controlToken }

// Reset returns all state to the seed: apps, users, templates, grants,
// tokens, inbox, journal, faults, quotas, content rules, the clock, and the
// push settings, queue and journal.
func (s *Server) Reset() error {
	s.resetMu.Lock()
	defer s.resetMu.Unlock()
	e := s.env
	e.Push.Reset() // first: no push of the old world goes out after the reset
	e.Clock.Reset()
	if s.opts.seed.Start != nil {
		e.Clock.Set(*s.opts.seed.Start)
	}
	e.Store.Clear()
	e.Faults.Clear()
	e.Quota.Reset("")
	e.Inbox.Reset()
	e.Journal.Reset()
	e.ResetCounters()
	e.Content.Set(content.Default(s.opts.seed.ContentRules))
	for _, em := range s.emus {
		em.Reset(s.opts.seed)
	}
	for _, app := range s.opts.seed.Apps {
		if _, err := s.control.AddApp(app); err != nil {
			return &SeedError{App: app.AppID, Err: err}
		}
	}
	return nil
}

// Close ends what would otherwise outlive a shutdown: the web UI's live
// streams. Call it when the listener stops; the handler keeps answering
// other requests. Then call Shutdown for the pushes.
func (s *Server) Close() {
	if s.ui != nil {
		s.ui.Close()
	}
}

// Shutdown stops the pushes to developers' servers: none is taken any more,
// those queued are delivered until ctx ends (an ended ctx drops them at
// once), and what is left then is dropped, journaled as dropped. It
// returns how many were dropped. Call it once the listener has stopped
// (platform calls would queue pushes); it also does what Close does.
func (s *Server) Shutdown(ctx context.Context) int {
	s.Close()
	return s.env.Push.Shutdown(ctx)
}

// pusher is an emulation of a platform that pushes to developers' servers.
type pusher interface{ PushCodec() push.Codec }

// SeedError is a seed that does not load.
type SeedError struct {
	App string
	Err error
}

func (e *SeedError) Error() string { return "seed app " + e.App + ": " + e.Err.Error() }
func (e *SeedError) Unwrap() error { return e.Err }

// recoverer turns a handler panic into a 500 and a log line; the server
// keeps serving. (Platform handlers must never panic — fuzz tests hold them
// to it — but a mock people depend on should not die if one does.)
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("handler panic", "path", r.URL.Path, "panic", v)
				http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
