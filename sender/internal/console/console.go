// Package console is the sender's web console under /console/: what is
// queued, sent and failed and why, each message's attempts as a timeline,
// dead letters with redrive (one and in bulk) and cancel, broadcasts with
// their state and live progress, recurring schedules (pause, resume,
// delete), groups, apps with their token, pause (and a resume button) and
// campaign rules, the consent ledger, and the queue depth and delivered/s
// at a glance.
//
// The console has no data of its own: every page is read, and every
// button acts, through the sender's JSON API — the same handler that
// serves /v1/, called in process with the signed-in API key through the
// Go client (senderclient). So a page shows exactly what the API answers
// to that key, and the API's scopes decide what it may do (read to look;
// the console asks admin for its buttons, and the API checks again).
//
// Pages are rendered on the server with html/template (every value is
// escaped by it) and read without JavaScript; one small embedded script
// adds live updates over Server-Sent Events. Sign-in is a form: the key
// is posted once and never appears in a URL; the browser then holds an
// opaque session id in an HttpOnly, SameSite=Strict cookie (Secure over
// TLS) whose SHA-256 is all the server keeps (auth.go), in the
// deployment's storage when it keeps sessions (storage.Sessions: every
// instance behind a balancer knows them), else in memory. State-changing
// forms are POSTs guarded by the session's CSRF token and net/http's
// CrossOriginProtection.
package console

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Prefix is where the console is served.
const Prefix = "/console"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Defaults.
const (
	// DefaultSessionLife is how long a sign-in lasts.
	DefaultSessionLife = 12 * time.Hour
	// DefaultMaxSessions bounds the sessions held in memory (without
	// Options.Sessions); the oldest goes first.
	DefaultMaxSessions = 1000
	// DefaultSessionsPerKey bounds an API key's live sessions (in
	// storage as in memory): a sign-in beyond it revokes the key's
	// oldest, so a script signing in again and again cannot pile them up.
	DefaultSessionsPerKey = 20
	// DefaultMaxStreams bounds concurrent live streams; more answer 503
	// (the browser's EventSource retries).
	DefaultMaxStreams = 32
	// DefaultStreamLife ends each live stream after a while; the browser
	// reconnects at once.
	DefaultStreamLife = 5 * time.Minute
	// DefaultTick is how often a live stream samples the API.
	DefaultTick = time.Second
)

// Options tune a console; the zero value takes the defaults.
type Options struct {
	SessionLife time.Duration
	MaxSessions int
	// SessionsPerKey: the live sessions one API key may hold.
	SessionsPerKey int
	MaxStreams     int
	StreamLife     time.Duration
	Tick           time.Duration
	Log            *slog.Logger
	// Sessions keeps the sign-in sessions; nil keeps them in this
	// process's memory (at most MaxSessions).
	Sessions storage.Sessions
}

// Console is the web console of one sender.
type Console struct {
	api     http.Handler // the sender's JSON API (/v1/…)
	keys    []config.APIKey
	apps    []string
	log     *slog.Logger
	origin  *http.CrossOriginProtection
	pages   map[string]*template.Template
	opts    Options
	streams chan struct{}

	sessions storage.Sessions // by SHA-256 of the cookie's value

	done      chan struct{}
	closeOnce sync.Once
}

// New returns the console over api, the handler that serves the sender's
// JSON API, for the configured keys and apps (in configuration order).
func New(api http.Handler, keys []config.APIKey, apps []string, opts Options) (*Console, error) {
	if opts.SessionLife <= 0 {
		opts.SessionLife = DefaultSessionLife
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxSessions
	}
	if opts.SessionsPerKey <= 0 {
		opts.SessionsPerKey = DefaultSessionsPerKey
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = DefaultMaxStreams
	}
	if opts.StreamLife <= 0 {
		opts.StreamLife = DefaultStreamLife
	}
	if opts.Tick <= 0 {
		opts.Tick = DefaultTick
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	sessions := opts.Sessions
	if sessions == nil {
		sessions = newMemSessions(opts.MaxSessions)
	}
	return &Console{api: api, keys: keys, apps: apps, log: log, origin: http.NewCrossOriginProtection(), pages: pages,
		opts: opts, streams: make(chan struct{}, opts.MaxStreams), sessions: sessions,
		done: make(chan struct{})}, nil
}

// Close ends the live streams (the server is shutting down); pages keep
// answering.
func (c *Console) Close() { c.closeOnce.Do(func() { close(c.done) }) }

// Handler serves the console under Prefix.
func (c *Console) Handler() http.Handler {
	r := mux.NewRouter()
	r.Handle(Prefix, http.RedirectHandler(Prefix+"/", http.StatusFound))
	s := r.PathPrefix(Prefix + "/").Subrouter()
	s.Use(securityHeaders)
	static, _ := fs.Sub(staticFS, "static")
	s.PathPrefix("/static/").Handler(http.StripPrefix(Prefix+"/static/", staticFiles(static)))
	s.HandleFunc("/login", c.login)
	s.Handle("/logout", c.post("", c.postLogout))

	s.Handle("/", c.page(c.overviewPage))
	s.Handle("/messages", c.page(c.messagesPage))
	// Before /messages/{id}: "cancel" is not a message id (those are msg_…).
	s.Handle("/messages/cancel", c.post(config.ScopeAdmin, c.postBulkCancel))
	s.Handle("/messages/{id}", c.page(c.messagePage))
	s.Handle("/dead-letters", c.page(c.deadLettersPage))
	s.Handle("/broadcasts", c.page(c.broadcastsPage))
	s.Handle("/broadcasts/{id}", c.page(c.broadcastPage))
	s.Handle("/groups", c.page(c.groupsPage))
	s.Handle("/apps", c.page(c.appsPage))
	s.Handle("/consents", c.page(c.consentsPage))
	s.Handle("/schedules", c.page(c.schedulesPage))
	s.Handle("/events/stats", c.live(c.statsEvents))
	s.Handle("/events/broadcasts/{id}", c.live(c.broadcastEvents))

	s.Handle("/messages/{id}/retry", c.post(config.ScopeAdmin, c.postRetry))
	s.Handle("/messages/{id}/cancel", c.post(config.ScopeAdmin, c.postCancel))
	s.Handle("/dead-letters/retry", c.post(config.ScopeAdmin, c.postBulkRetry))
	s.Handle("/apps/{name}/resume", c.post(config.ScopeAdmin, c.postResume))
	s.Handle("/schedules/{id}/pause", c.post(config.ScopeAdmin, c.postSchedulePause(true)))
	s.Handle("/schedules/{id}/resume", c.post(config.ScopeAdmin, c.postSchedulePause(false)))
	s.Handle("/schedules/{id}/delete", c.post(config.ScopeAdmin, c.postScheduleDelete))
	nf := securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, http.StatusNotFound, "No page "+r.URL.Path+" in the console.")
	}))
	r.NotFoundHandler, s.NotFoundHandler = nf, nf
	return r
}

// securityHeaders keep the pages in their lane: scripts and styles only
// from the console itself (no inline script, so even a value that escaped
// escaping could not run), no framing, no sniffing.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// staticFiles serves the embedded assets (no directory listings).
func staticFiles(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || r.URL.Path[len(r.URL.Path)-1] == '/' {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
