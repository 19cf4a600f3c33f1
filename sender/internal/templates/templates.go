// Package templates knows each app's message templates — the keywords a
// send of each carries — and checks a message against them and against
// its platform's value rules before the API accepts it (issue 11: errors
// knowable before sending are a 422, not a failure after a 202).
//
// An app's templates come from two places:
//
//   - its platform's template list, where the platform has one (WeChat's
//     gettemplate, Douyin's v2 query_app_tpl, Baidu's templatelist): fetched
//     in the background from the app's first check once the app holds an
//     access token (the list never costs a token fetch: the platforms cap
//     those, and the first send fetches one), refreshed in the background
//     once older than App.Refresh, and fetched again at once (at most every
//     RefetchFloor, the request waiting for it) when a message names a
//     template the list lacks, so a template added on the platform is found
//     without a restart;
//   - its configuration (apps[].templates: template id → keyword keys), for
//     platforms without a list (Alipay, Kuaishou) or to pin a template.
//     A declared template wins over the listed one of the same id.
//
// A platform that cannot be reached never blocks sends: while no list has
// been fetched the app is checked against what is declared, and a
// template neither listed nor declared is let through for the platform to
// judge. Value rules (docs/platforms/) apply whatever the source: they
// need only the keyword's key.
package templates

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/minipush/minipush/sender/internal/platform"
)

// Defaults.
const (
	// DefaultRefresh is how old an app's template list may grow before a
	// check refreshes it in the background.
	DefaultRefresh = 10 * time.Minute
	// DefaultRefetchFloor is the least time between two fetches an unknown
	// template id triggers: a caller naming ids the app does not have
	// cannot turn each request into a platform call.
	DefaultRefetchFloor = 10 * time.Second
	// DefaultFetchTimeout bounds the one fetch a request may wait for (an
	// unknown template id).
	DefaultFetchTimeout = 3 * time.Second
)

// Lister lists an app's templates (the platform clients that can).
type Lister interface {
	Templates(ctx context.Context) ([]platform.Template, error)
}

// App is what the catalog knows of one configured app.
type App struct {
	Name     string
	Platform string
	// Declared are the configured templates: id → keyword keys.
	Declared map[string][]string
	// DefaultPage is the page a message without one is sent with.
	DefaultPage string
	// Lister fetches the platform's list; nil when the app has none (or
	// listing is off).
	Lister Lister
	// Refresh is the list's maximum age (DefaultRefresh when 0).
	Refresh time.Duration
}

// Option configures a Catalog.
type Option func(*Catalog)

// WithClock sets the catalog's clock (tests).
func WithClock(now func() time.Time) Option { return func(c *Catalog) { c.now = now } }

// WithRefetchFloor sets the least time between two fetches an unknown id
// triggers.
func WithRefetchFloor(d time.Duration) Option { return func(c *Catalog) { c.floor = d } }

// WithFetchTimeout bounds a fetch a request waits for.
func WithFetchTimeout(d time.Duration) Option { return func(c *Catalog) { c.timeout = d } }

// WithLogger sets the logger of fetch failures.
func WithLogger(l *slog.Logger) Option { return func(c *Catalog) { c.log = l } }

// Catalog holds every app's templates. Safe for concurrent use.
type Catalog struct {
	apps    map[string]*entry
	now     func() time.Time
	floor   time.Duration
	timeout time.Duration
	log     *slog.Logger
	// bg bounds the background refreshes' lifetime (Close).
	bg     context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type entry struct {
	app App

	mu sync.Mutex
	// listed is the last list fetched (nil: none yet).
	listed    map[string]platform.Template
	fetchedAt time.Time // of listed
	triedAt   time.Time // of the last fetch, ok or not
	lastErr   string
	// fetching is closed when the fetch in flight ends (nil: none).
	fetching chan struct{}
}

// New returns the catalog of apps.
func New(apps []App, opts ...Option) *Catalog {
	c := &Catalog{apps: map[string]*entry{}, now: time.Now, floor: DefaultRefetchFloor, timeout: DefaultFetchTimeout,
		log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	c.bg, c.cancel = context.WithCancel(context.Background())
	for _, a := range apps {
		if a.Refresh <= 0 {
			a.Refresh = DefaultRefresh
		}
		c.apps[a.Name] = &entry{app: a}
	}
	return c
}

// Watch checks every interval, in the background until Close, whether an
// app's list is due: not fetched yet (the app may have its first token
// now: without one the attempt makes no call), failed longer than the
// floor ago, or older than its Refresh. So a list is there soon after the
// app's first send, and refreshed while no message asks for it.
func (c *Catalog) Watch(interval time.Duration) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-c.bg.Done():
				return
			case <-t.C:
				for _, e := range c.apps {
					if e.app.Lister != nil && c.due(e) {
						c.start(e)
					}
				}
			}
		}
	}()
}

// due reports whether e's list should be fetched now (none in flight):
// never tried, past its age, or failed longer than the floor ago.
func (c *Catalog) due(e *entry) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := c.now()
	return e.fetching == nil && (e.triedAt.IsZero() ||
		e.listed != nil && now.Sub(e.fetchedAt) >= e.app.Refresh ||
		e.lastErr != "" && now.Sub(e.triedAt) >= c.floor)
}

// Close stops background refreshes and waits for them.
func (c *Catalog) Close() {
	c.cancel()
	c.wg.Wait()
}

// State is what GET /v1/apps/{name} shows of an app's templates.
type State struct {
	// Source: "platform" (a list fetched), "config" (only declared ones)
	// or "none" (nothing known: only value rules apply).
	Source string
	// Count is the number of templates known (listed and declared).
	Count int
	// FetchedAt is when the list was last fetched (zero: never).
	FetchedAt time.Time
	// Error is the last fetch's failure ("" after a success).
	Error string
	// Listable: the app's platform lists templates.
	Listable bool
}

// State reports app's templates (ok false for an app not in the catalog).
func (c *Catalog) State(app string) (State, bool) {
	e, ok := c.apps[app]
	if !ok {
		return State{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	st := State{FetchedAt: e.fetchedAt, Error: e.lastErr, Listable: e.app.Lister != nil}
	ids := map[string]bool{}
	for id := range e.listed {
		ids[id] = true
	}
	for id := range e.app.Declared {
		ids[id] = true
	}
	st.Count = len(ids)
	switch {
	case e.listed != nil:
		st.Source = "platform"
	case len(e.app.Declared) > 0:
		st.Source = "config"
	default:
		st.Source = "none"
	}
	return st, true
}

// Refresh fetches app's list now (a refresh already in flight is waited
// for instead).
func (c *Catalog) Refresh(ctx context.Context, app string) error {
	e, ok := c.apps[app]
	if !ok {
		return fmt.Errorf("no app %q", app)
	}
	if e.app.Lister == nil {
		return platform.ErrUnsupported
	}
	c.fetch(ctx, e)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lastErr != "" {
		return fmt.Errorf("list %s templates: %s", app, e.lastErr)
	}
	return nil
}

// start starts a fetch of e's list unless one is in flight, and returns
// the channel closed when the fetch in flight ends.
func (c *Catalog) start(e *entry) chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fetching == nil {
		e.fetching = make(chan struct{})
		e.triedAt = c.now()
		c.wg.Add(1)
		go c.run(e, e.fetching)
	}
	return e.fetching
}

// fetch fetches e's list, or waits for the fetch in flight; it returns
// when that fetch ends or ctx does.
func (c *Catalog) fetch(ctx context.Context, e *entry) {
	select {
	case <-c.start(e):
	case <-ctx.Done():
	}
}

// run is one fetch. It runs on the catalog's context, not the request's:
// a caller that stops waiting does not waste the fetch.
func (c *Catalog) run(e *entry, done chan struct{}) {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(c.bg, 4*c.timeout)
	defer cancel()
	list, err := e.app.Lister.Templates(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case errors.Is(err, platform.ErrNoToken):
		// The list is fetched with the app's token, never with a token
		// fetched for it: the platforms cap token fetches, and a send's
		// token refresh is one of its attempts. Until the app's first send
		// has fetched one, the next check tries again (no network call).
		e.triedAt = time.Time{}
	case err != nil:
		// The last good list stays: a platform that is down does not
		// forget the app's templates.
		e.lastErr = err.Error()
		c.log.Warn("template list fetch failed: messages are checked against the last list and the declared templates",
			"app", e.app.Name, "err", err)
	default:
		e.listed = make(map[string]platform.Template, len(list))
		for _, t := range list {
			e.listed[t.ID] = t
		}
		e.fetchedAt, e.lastErr = c.now(), ""
	}
	e.fetching = nil
	close(done)
}

// template is what the catalog knows of id in app: its keywords, and
// whether the catalog knows the app's templates well enough to call an id
// it lacks unknown.
func (c *Catalog) template(ctx context.Context, e *entry, id string) (t platform.Template, found, authoritative bool) {
	if kw, ok := e.app.Declared[id]; ok {
		return platform.Template{ID: id, Keywords: kw}, true, true
	}
	if e.app.Lister == nil {
		// Only the configuration speaks: a declared set is the whole set.
		return platform.Template{}, false, len(e.app.Declared) > 0
	}
	if c.due(e) {
		// In the background: a request never waits for a list it has
		// not needed yet (the first check of an app, a periodic refresh).
		c.start(e)
	}
	e.mu.Lock()
	t, found = e.listed[id]
	missing := e.listed != nil && !found && c.now().Sub(e.triedAt) >= c.floor
	e.mu.Unlock()
	if missing {
		// A template added on the platform since the last fetch: worth
		// one wait (bounded, and at most every floor) before refusing.
		wait, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		c.fetch(wait, e)
		e.mu.Lock()
		t, found = e.listed[id]
		e.mu.Unlock()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// Authoritative only on a list that answered: while the platform
	// cannot be reached, nothing is refused for want of a list.
	return t, found, e.listed != nil && e.lastErr == ""
}
