// Package ui is the mock's web UI under /_ui/: a phone that shows what each
// user received as the platform's service-notification cards, the users'
// subscriptions with buttons that act as the user, the journal of platform
// calls, and the control panel (faults, clock, content rules, quotas,
// reset).
//
// Pages are rendered on the server with html/template (every value is
// escaped by it) and read without JavaScript; one small embedded script
// adds live updates over Server-Sent Events and submits selects on change.
// The UI holds no state of its own: it reads and changes the mock through
// the control API's Go methods (controlapi.API) and follows the inbox and
// journal rings, so it always shows what GET /_mock/… answers.
//
// State-changing forms are POSTs guarded twice against cross-site request
// forgery: a per-server random token in a hidden field, and net/http's
// CrossOriginProtection (Sec-Fetch-Site / Origin against Host). When the
// mock runs with a control token the UI asks for it first (auth.go).
package ui

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/mockserver/internal/controlapi"
	"github.com/minipush/minipush/mockserver/internal/platform"
)

// Prefix is where the UI is served.
const Prefix = "/_ui"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Defaults bounding the live streams.
const (
	// DefaultMaxStreams bounds concurrent SSE streams per server; more
	// answer 503 (the browser's EventSource retries).
	DefaultMaxStreams = 64
	// DefaultStreamLife ends each stream after a while; the browser
	// reconnects at once with Last-Event-ID and misses nothing. Bounded
	// streams never pin a connection for good.
	DefaultStreamLife = 5 * time.Minute
	// heartbeat keeps idle streams alive through proxies and notices
	// clients that went away.
	heartbeat = 15 * time.Second
	// streamWriteTimeout drops a client that stops reading.
	streamWriteTimeout = 10 * time.Second
)

// Options tune a UI; the zero value takes the defaults.
type Options struct {
	MaxStreams int
	StreamLife time.Duration
	// Token, when set, is the mock's control token: the UI then asks for
	// it before it shows or changes anything.
	Token string
}

// UI is the web UI of one mock server.
type UI struct {
	ctl       *controlapi.API
	env       *platform.Env
	token     string
	session   string
	log       *slog.Logger
	csrfToken string
	origin    *http.CrossOriginProtection
	pages     map[string]*template.Template
	streams   chan struct{} // semaphore of live streams
	life      time.Duration
	done      chan struct{}
	closeOnce sync.Once
}

// New returns the UI of the mock whose control API is ctl and whose state
// is env.
func New(ctl *controlapi.API, env *platform.Env, opts Options) (*UI, error) {
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = DefaultMaxStreams
	}
	if opts.StreamLife <= 0 {
		opts.StreamLife = DefaultStreamLife
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	session, err := newSession()
	if err != nil {
		return nil, err
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &UI{
		ctl: ctl, env: env, token: opts.Token, session: session, log: log, csrfToken: hex.EncodeToString(tok),
		origin: http.NewCrossOriginProtection(), pages: pages,
		streams: make(chan struct{}, opts.MaxStreams), life: opts.StreamLife, done: make(chan struct{}),
	}, nil
}

// Close ends the live streams (a server shutting down); pages keep
// answering.
func (u *UI) Close() { u.closeOnce.Do(func() { close(u.done) }) }

// Routes registers the UI under Prefix.
func (u *UI) Routes(r *mux.Router) {
	r.Handle(Prefix, http.RedirectHandler(Prefix+"/", http.StatusFound))
	s := r.PathPrefix(Prefix + "/").Subrouter()
	s.Use(securityHeaders, u.requireLogin)
	static, _ := fs.Sub(staticFS, "static")
	s.PathPrefix("/static/").Handler(http.StripPrefix(Prefix+"/static/", staticFiles(static)))

	s.Handle("/", get(u.home))
	s.HandleFunc("/login", u.postLogin)
	s.Handle("/phone", get(u.phonePage))
	s.Handle("/subscriptions", get(u.subscriptionsPage))
	s.Handle("/journal", get(u.journalPage))
	s.Handle("/control", get(u.controlPage))
	s.Handle("/events/inbox", get(u.inboxEvents))
	s.Handle("/events/journal", get(u.journalEvents))

	s.Handle("/subscriptions/popup", u.post(u.postPopup))
	s.Handle("/subscriptions/switch-off", u.post(u.postSwitchOff))
	s.Handle("/inbox/clear", u.post(u.postClearInbox))
	s.Handle("/kefu/sessions", u.post(u.postKefu))
	s.Handle("/journal/clear", u.post(u.postClearJournal))
	s.Handle("/faults", u.post(u.postFault))
	s.Handle("/faults/delete", u.post(u.postDeleteFault))
	s.Handle("/faults/clear", u.post(u.postClearFaults))
	s.Handle("/clock", u.post(u.postClock))
	s.Handle("/content-rules", u.post(u.postContentRules))
	s.Handle("/quotas", u.post(u.postQuota))
	s.Handle("/quotas/clear-usage", u.post(u.postClearUsage))
	s.Handle("/reset", u.post(u.postReset))
	// The subrouter's middleware does not wrap its NotFound handler.
	s.NotFoundHandler = securityHeaders(u.requireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.renderError(w, r, http.StatusNotFound, "No page "+r.URL.Path+" in the mock's UI.")
	})))
}

func (u *UI) home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != Prefix+"/" {
		u.renderError(w, r, http.StatusNotFound, "No page "+r.URL.Path+" in the mock's UI.")
		return
	}
	http.Redirect(w, r, Prefix+"/phone", http.StatusFound)
}

// get serves GET and HEAD only.
func get(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	})
}

// securityHeaders keep the pages in their lane: scripts and styles only
// from the UI itself (no inline script, so even a value that escaped
// escaping could not run), no framing, no sniffing, no caching of pages
// that show live state.
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

// staticFiles serves the embedded assets; they change only with the
// binary, so browsers revalidate them (no-cache) rather than guess.
func staticFiles(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || r.URL.Path[len(r.URL.Path)-1] == '/' {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
