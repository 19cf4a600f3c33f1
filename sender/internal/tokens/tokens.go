// Package tokens is the sender's access-token broker: one Broker per app
// holds the app's platform access token, shares it between every concurrent
// send, fetches a new one only when it must, and keeps it across restarts in
// the sender's store.
//
// Why a broker and not the platform SDK's cache: WeChat caps token fetches
// per day (2,000 is the commonly cited figure), and fetching a new token
// with /cgi-bin/token invalidates the previous one five minutes later, so a
// fleet of callers each refreshing on its own both burns the quota and knocks
// out the token its neighbours are using. The public SDKs also keep serving a
// token the platform has rejected (silenceper/wechat never drops its cache on
// 40001/42001). The broker therefore
//
//   - loads the persisted token before fetching (a restart does not refetch),
//   - refreshes a margin before expiry (DefaultMargin),
//   - runs at most one fetch at a time per app (singleflight): 100 callers
//     with an empty cache cause one fetch,
//   - drops a token on Invalidate only while it is still the current one, so
//     50 sends failing with the same stale token cause one refetch, not 50,
//   - holds a failed fetch's error for a while (DefaultFailureBackoff,
//     doubling with each failure in a row up to WithMaxFailureBackoff) so
//     a broken secret does not turn every send into a token call,
//   - keeps a rejected token it fetched moments ago instead of fetching
//     again (WithRefetchFloor): a platform that rejects good tokens at
//     random — 30 % injected 40001s burned WeChat's 2,000-a-day
//     /cgi-bin/token quota in ~8,000 messages (issue 9) — costs one fetch
//     per floor, not one per rejection,
//   - fetches at most N times per window (WithFetchLimit), a circuit
//     breaker: past it Get serves the current token if there is one, else
//     a *FetchLimitError saying when fetching is allowed again.
//
// With several sender instances on one shared store (storage/redis), the
// store is also a Coordinator and all of this holds for the deployment,
// not just the process: one instance fetches under a lock with a deadline
// while the others keep serving the current token or wait for the new one
// to appear in the store; the fetch limit and the refetch floor count
// every instance's fetches (docs/redis.md#tokens).
//
// The fetch itself is a func supplied by the platform client
// (platform/wechat, …); the broker knows no platform.
package tokens

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/minipush/minipush/sender/internal/storage"
)

// Defaults.
const (
	// DefaultMargin is how long before expiry a token is refreshed. WeChat
	// renews stable tokens 5 minutes before expiry and keeps an old token
	// valid 5 minutes after a new fetch; refreshing 5 minutes early means a
	// send never carries a token that expires in flight.
	DefaultMargin = 5 * time.Minute
	// DefaultFetchTimeout bounds one fetch. The fetch runs detached from
	// the caller that started it (others may be waiting on it), so it needs
	// its own deadline.
	DefaultFetchTimeout = 30 * time.Second
	// DefaultFailureBackoff is how long a failed fetch's error is handed to
	// callers without fetching again (when no usable token is left).
	DefaultFailureBackoff = 5 * time.Second
	// DefaultMaxFailureBackoff caps the failure backoff as failures in a
	// row double it.
	DefaultMaxFailureBackoff = time.Minute
)

// FetchLimitError is Get's error while the fetch limit is reached and no
// usable token is left: no fetch until Until.
type FetchLimitError struct {
	Key    string
	Limit  int
	Window time.Duration
	Until  time.Time
}

func (e *FetchLimitError) Error() string {
	return fmt.Sprintf("access token of %s: %d fetches in %s, the limit: no fetch before %s",
		e.Key, e.Limit, e.Window, e.Until.UTC().Format(time.RFC3339))
}

// Store persists tokens. storage.Store satisfies it; tests use MemoryStore.
// Token returns storage.ErrNotFound when there is none. DeleteToken deletes
// key only while it still holds token (so an instance dropping a stale token
// cannot delete a newer one).
type Store interface {
	Token(ctx context.Context, key string) (token string, expires time.Time, err error)
	PutToken(ctx context.Context, key, token string, expires time.Time) error
	DeleteToken(ctx context.Context, key, token string) error
}

// Coordinator is implemented by a Store shared by several sender
// instances (storage/redis). Without one, a broker coordinates only the
// callers of its own process.
type Coordinator interface {
	// LockFetch takes the right to fetch key's token, for at most ttl
	// (the lock ends by itself when its holder dies). ok false: another
	// instance holds it. release gives it back.
	LockFetch(ctx context.Context, key string, ttl time.Duration) (release func(), ok bool, err error)
	// AdmitFetch records a fetch beginning at now unless limit (0: none)
	// fetches of key, by any instance, already fall inside the window
	// before now: then until is when the oldest leaves it. Fetch times
	// are kept at least keep.
	AdmitFetch(ctx context.Context, key string, now time.Time, limit int, window, keep time.Duration) (until time.Time, ok bool, err error)
	// LastFetch is when any instance last began a fetch of key's token
	// (zero: none known).
	LastFetch(ctx context.Context, key string) (time.Time, error)
}

// sharedPoll is how often an instance waiting for another's fetch looks
// for the new token in the store; meanwhile a still usable token is served
// from memory for as long.
const sharedPoll = 50 * time.Millisecond

// FetchFunc gets a new token from the platform. Its errors are returned to
// callers (wrapped), so they must not contain the app secret.
type FetchFunc func(ctx context.Context) (token string, expiresIn time.Duration, err error)

type options struct {
	margin            time.Duration
	fetchTimeout      time.Duration
	failureBackoff    time.Duration
	maxFailureBackoff time.Duration
	refetchFloor      time.Duration
	maxFetches        int
	fetchWindow       time.Duration
	now               func() time.Time
	onFetch           func(err error)
	onStoreError      func(err error)
	onLimited         func(until time.Time)
}

// Option configures a Broker.
type Option func(*options)

// WithMargin sets how long before expiry the token is refreshed.
func WithMargin(d time.Duration) Option { return func(o *options) { o.margin = d } }

// WithFetchTimeout bounds one fetch.
func WithFetchTimeout(d time.Duration) Option { return func(o *options) { o.fetchTimeout = d } }

// WithFailureBackoff sets how long a failed fetch is remembered (0: never,
// every Get without a usable token fetches).
func WithFailureBackoff(d time.Duration) Option { return func(o *options) { o.failureBackoff = d } }

// WithMaxFailureBackoff caps the failure backoff, which doubles with each
// failed fetch in a row (from WithFailureBackoff's).
func WithMaxFailureBackoff(d time.Duration) Option {
	return func(o *options) { o.maxFailureBackoff = d }
}

// WithRefetchFloor keeps a rejected token (Invalidate) that the broker
// fetched less than d ago: the next fetch waits until d has passed since
// the last. 0 (the default): every rejection refetches.
func WithRefetchFloor(d time.Duration) Option { return func(o *options) { o.refetchFloor = d } }

// WithFetchLimit allows at most n fetches (failed ones included) in any
// window of length per. 0 (the default): no limit.
func WithFetchLimit(n int, per time.Duration) Option {
	return func(o *options) { o.maxFetches, o.fetchWindow = n, per }
}

// WithOnLimited is called when the fetch limit is reached (once per
// window it stays reached), with when fetching is allowed again.
func WithOnLimited(f func(until time.Time)) Option { return func(o *options) { o.onLimited = f } }

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithOnFetch is called after every fetch with its error (nil on success):
// a hook for a fetch counter.
func WithOnFetch(f func(err error)) Option { return func(o *options) { o.onFetch = f } }

// WithOnStoreError is called when the store fails to load, save or delete a
// token. Such failures never fail a Get: the token still works in memory.
func WithOnStoreError(f func(err error)) Option { return func(o *options) { o.onStoreError = f } }

// Fetch is one call to the platform's token API.
type Fetch struct {
	At      time.Time
	Latency time.Duration
	// Err is the fetch's error (nil: a token came back).
	Err error
}

type fetchObserverKey struct{}

// WithFetchObserver returns a context whose Get reports through f each
// fetch it makes itself (not those it waits on): the sender lists them
// among a message's attempts (kind token_refresh). f may be called after
// Get returned, if its caller gave up waiting.
func WithFetchObserver(ctx context.Context, f func(Fetch)) context.Context {
	return context.WithValue(ctx, fetchObserverKey{}, f)
}

// State is what the broker knows of its token, for operators.
type State struct {
	// ValidUntil is the current token's expiry (zero: no token held).
	ValidUntil time.Time
	// RefreshedAt is when the last fetch (or load from the store) gave a
	// token.
	RefreshedAt time.Time
	// Failures counts failed fetches in a row; LastError is the latest.
	Failures  int
	LastError string
}

// Broker holds one app's access token. Safe for concurrent use.
type Broker struct {
	key   string
	store Store
	coord Coordinator // nil: the store is this process's own
	fetch FetchFunc
	opts  options
	group singleflight.Group

	mu        sync.Mutex
	token     string
	expires   time.Time // the platform's expiry
	refreshAt time.Time // when to fetch the next one
	dead      string    // the last invalidated token: never adopted again from the store
	failErr   error     // the last fetch error, while failUntil is ahead
	failUntil time.Time
	failures  int         // failed fetches in a row
	fetches   []time.Time // when the fetches inside the limit's window began
	limited   time.Time   // the end of the limit last reported to onLimited
	refreshed time.Time   // when the current token was fetched or loaded
	lastErr   string      // the last failed fetch's error
}

// State reports the broker's token state.
func (b *Broker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := State{RefreshedAt: b.refreshed, Failures: b.failures, LastError: b.lastErr}
	if b.token != "" {
		st.ValidUntil = b.expires
	}
	return st
}

// New returns a broker for the token stored under key (e.g.
// "wechat/wx123/stable"; the key also names the app in errors, so it must
// not hold a secret). store may be nil: the token then lives in memory only.
func New(key string, store Store, fetch FetchFunc, opts ...Option) *Broker {
	o := options{margin: DefaultMargin, fetchTimeout: DefaultFetchTimeout, failureBackoff: DefaultFailureBackoff,
		maxFailureBackoff: DefaultMaxFailureBackoff, now: time.Now, onFetch: func(error) {}, onStoreError: func(error) {},
		onLimited: func(time.Time) {}}
	for _, opt := range opts {
		opt(&o)
	}
	b := &Broker{key: key, store: store, fetch: fetch, opts: o}
	if c, ok := store.(Coordinator); ok {
		b.coord = c
	}
	return b
}

// Key is the broker's store key.
func (b *Broker) Key() string { return b.key }

// Get returns the current token, loading it from the store or fetching a
// new one when there is none or it is due for refresh. Concurrent calls
// share one load/fetch. A token inside its refresh margin is still returned
// if the refresh fails: it works until it expires.
func (b *Broker) Get(ctx context.Context) (string, error) {
	if tok, ok := b.cached(); ok {
		return tok, nil
	}
	// The flight runs detached from this caller's cancellation: other
	// callers wait on it, and a fetched token is worth keeping.
	ch := b.group.DoChan("token", func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.fetchTimeout)
		defer cancel()
		return b.refresh(fctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", fmt.Errorf("wait for access token of %s: %w", b.key, ctx.Err())
	}
}

// Current returns the token the broker holds, if it needs no refresh,
// without loading or fetching one: for calls that are not worth a token
// fetch (the template list, sender/internal/templates).
func (b *Broker) Current() (string, bool) { return b.cached() }

// cached returns the token when it needs no refresh.
func (b *Broker) cached() (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.token != "" && b.opts.now().Before(b.refreshAt) {
		return b.token, true
	}
	return "", false
}

// refresh runs inside the single flight: it re-checks the cache (a flight
// that just ended may have filled it), then the store, then fetches.
func (b *Broker) refresh(ctx context.Context) (string, error) {
	now := b.opts.now()
	b.mu.Lock()
	cur, expires, refreshAt, dead := b.token, b.expires, b.refreshAt, b.dead
	failErr, failUntil := b.failErr, b.failUntil
	b.mu.Unlock()
	if cur != "" && now.Before(refreshAt) {
		return cur, nil
	}
	usable := cur != "" && now.Before(expires)
	if failErr != nil && now.Before(failUntil) {
		// A fetch failed moments ago: do not hammer the platform.
		if usable {
			return cur, nil
		}
		return "", failErr
	}

	// Another instance (or this one before a restart) may have stored a
	// fresher token.
	if tok, exp, ok := b.load(ctx, now, cur, dead); ok {
		b.set(tok, exp, exp.Add(-b.opts.margin))
		return tok, nil
	}
	if b.coord != nil {
		return b.refreshShared(ctx, cur, expires, dead)
	}
	return b.fetchNew(ctx, now, cur, expires)
}

// refreshShared fetches under the deployment's lock: the one instance
// that takes it fetches (after looking in the store once more: the
// previous holder may just have stored one); the others serve the token
// they have while it is usable, or wait for the new one to appear.
func (b *Broker) refreshShared(ctx context.Context, cur string, expires time.Time, dead string) (string, error) {
	for {
		now := b.opts.now()
		usable := cur != "" && now.Before(expires)
		release, locked, err := b.coord.LockFetch(ctx, b.key, b.opts.fetchTimeout)
		if err != nil {
			// The shared store is unavailable: fetching now could retire
			// the token the other instances use. Keep what works.
			b.opts.onStoreError(fmt.Errorf("lock the fetch of the access token for %s: %w", b.key, err))
			if usable {
				return cur, nil
			}
			return "", fmt.Errorf("access token of %s: cannot coordinate the fetch with the other instances: %w", b.key, err)
		}
		if locked {
			defer release()
			if tok, exp, ok := b.load(ctx, now, cur, dead); ok {
				b.set(tok, exp, exp.Add(-b.opts.margin))
				return tok, nil
			}
			return b.fetchNew(ctx, now, cur, expires)
		}
		if usable {
			// Serve it a moment longer without asking again.
			b.mu.Lock()
			if b.token == cur {
				b.refreshAt = now.Add(sharedPoll)
			}
			b.mu.Unlock()
			return cur, nil
		}
		t := time.NewTimer(sharedPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("wait for another instance's fetch of the access token of %s: %w", b.key, ctx.Err())
		case <-t.C:
		}
		if tok, exp, ok := b.load(ctx, b.opts.now(), cur, dead); ok {
			b.set(tok, exp, exp.Add(-b.opts.margin))
			return tok, nil
		}
	}
}

// fetchNew fetches a token from the platform (when the fetch limit
// allows) and stores it.
func (b *Broker) fetchNew(ctx context.Context, now time.Time, cur string, expires time.Time) (string, error) {
	usable := cur != "" && now.Before(expires)
	if until, ok := b.admitFetch(ctx, now); !ok {
		if usable {
			return cur, nil
		}
		return "", &FetchLimitError{Key: b.key, Limit: b.opts.maxFetches, Window: b.opts.fetchWindow, Until: until}
	}
	started := time.Now()
	tok, expiresIn, err := b.fetch(ctx)
	if err == nil {
		switch {
		case tok == "":
			err = errors.New("platform answered an empty token")
		case expiresIn <= 0:
			err = fmt.Errorf("platform answered a token lifetime of %s", expiresIn)
		}
	}
	if f, ok := ctx.Value(fetchObserverKey{}).(func(Fetch)); ok {
		f(Fetch{At: now, Latency: time.Since(started), Err: err})
	}
	b.opts.onFetch(err)
	now = b.opts.now()
	if err != nil {
		err = fmt.Errorf("fetch access token for %s: %w", b.key, err)
		b.mu.Lock()
		b.failures++
		backoff := b.opts.failureBackoff
		for i := 1; i < b.failures && backoff < b.opts.maxFailureBackoff; i++ {
			backoff *= 2
		}
		b.failErr, b.failUntil = err, now.Add(min(backoff, max(b.opts.maxFailureBackoff, b.opts.failureBackoff)))
		b.lastErr = err.Error()
		b.mu.Unlock()
		if usable && now.Before(expires) {
			return cur, nil
		}
		return "", err
	}
	exp := now.Add(expiresIn)
	// A lifetime shorter than the margin would make every Get refetch (the
	// silenceper bug with expires_in ≤ 1500): refresh halfway instead.
	refreshAfter := max(expiresIn-b.opts.margin, expiresIn/2)
	b.set(tok, exp, now.Add(refreshAfter))
	if b.store != nil {
		if err := b.store.PutToken(ctx, b.key, tok, exp); err != nil {
			b.opts.onStoreError(fmt.Errorf("save access token for %s: %w", b.key, err))
		}
	}
	return tok, nil
}

// load reads the store; it returns a token only if it is not the one being
// replaced, not a token known dead, and good for longer than the margin.
func (b *Broker) load(ctx context.Context, now time.Time, cur, dead string) (string, time.Time, bool) {
	if b.store == nil {
		return "", time.Time{}, false
	}
	tok, exp, err := b.store.Token(ctx, b.key)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			b.opts.onStoreError(fmt.Errorf("load access token for %s: %w", b.key, err))
		}
		return "", time.Time{}, false
	}
	if tok == "" || tok == cur || tok == dead || !now.Before(exp.Add(-b.opts.margin)) {
		return "", time.Time{}, false
	}
	return tok, exp, true
}

func (b *Broker) set(tok string, expires, refreshAt time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.token, b.expires, b.refreshAt = tok, expires, refreshAt
	b.failErr, b.failUntil, b.failures = nil, time.Time{}, 0
	b.refreshed = b.opts.now()
}

// admitFetch records a fetch about to start, unless the fetch limit is
// reached: then it reports when the oldest fetch in the window leaves it.
// With a Coordinator the window holds every instance's fetches.
func (b *Broker) admitFetch(ctx context.Context, now time.Time) (time.Time, bool) {
	if b.coord != nil {
		until, ok, err := b.coord.AdmitFetch(ctx, b.key, now, b.opts.maxFetches, b.opts.fetchWindow,
			max(b.opts.fetchWindow, b.opts.refetchFloor))
		if err == nil {
			b.mu.Lock()
			defer b.mu.Unlock()
			if !ok {
				b.limitedAt(until)
				return until, false
			}
			b.fetches = append(b.fetches[:0], now)
			return time.Time{}, true
		}
		// The shared window cannot be read: count this instance's own.
		b.opts.onStoreError(fmt.Errorf("admit the fetch of the access token for %s: %w", b.key, err))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.opts.maxFetches > 0 {
		keep := b.fetches[:0]
		for _, t := range b.fetches {
			if now.Sub(t) < b.opts.fetchWindow {
				keep = append(keep, t)
			}
		}
		b.fetches = keep
		if len(b.fetches) >= b.opts.maxFetches {
			until := b.fetches[0].Add(b.opts.fetchWindow)
			b.limitedAt(until)
			return until, false
		}
	}
	if b.opts.maxFetches == 0 {
		b.fetches = b.fetches[:0] // only the latest matters (lastFetch)
	}
	b.fetches = append(b.fetches, now)
	return time.Time{}, true
}

// limitedAt reports a reached limit to onLimited, once per window end.
// b.mu is held.
func (b *Broker) limitedAt(until time.Time) {
	if !until.Equal(b.limited) {
		b.limited = until
		b.opts.onLimited(until)
	}
}

// lastFetch is when the latest fetch began (zero: none yet).
func (b *Broker) lastFetch() time.Time {
	if len(b.fetches) == 0 {
		return time.Time{}
	}
	return b.fetches[len(b.fetches)-1]
}

// Invalidate drops token because the platform rejected it (WeChat 40001,
// 42001), but only while it is still the current token: when many sends
// fail with the same stale token, the first drops it and the others find
// the new one. It reports whether it dropped the token. The next Get
// fetches; the token is also deleted from the store (only if the store
// still holds it) and never adopted from the store again.
//
// Under the refetch floor (WithRefetchFloor), a token fetched less than
// the floor ago is kept instead: callers go on with it, and it is dropped
// by the first rejection after the floor has passed.
func (b *Broker) Invalidate(ctx context.Context, token string) bool {
	b.mu.Lock()
	if token == "" || token != b.token {
		b.mu.Unlock()
		return false
	}
	last := b.lastFetch()
	if b.coord != nil && b.opts.refetchFloor > 0 {
		b.mu.Unlock()
		if stored, _, err := b.store.Token(ctx, b.key); err == nil && stored != token {
			// Another instance replaced it already: it is dead, and the
			// floor protects only the deployment's current token.
			last = time.Time{}
		} else if shared, err := b.coord.LastFetch(ctx, b.key); err == nil && shared.After(last) {
			// The floor counts any instance's fetch: the token may be one
			// another instance fetched a moment ago.
			last = shared
		}
		b.mu.Lock()
		if token != b.token {
			b.mu.Unlock()
			return false
		}
	}
	if b.opts.refetchFloor > 0 && !last.IsZero() && b.opts.now().Sub(last) < b.opts.refetchFloor {
		b.mu.Unlock()
		return false
	}
	b.token, b.expires, b.refreshAt, b.dead = "", time.Time{}, time.Time{}, token
	// A rejection is fresh news: a fetch failure remembered from before
	// must not stand in the way of the refetch.
	b.failErr, b.failUntil = nil, time.Time{}
	b.mu.Unlock()
	if b.store != nil {
		if err := b.store.DeleteToken(ctx, b.key, token); err != nil {
			b.opts.onStoreError(fmt.Errorf("delete access token for %s: %w", b.key, err))
		}
	}
	return true
}

// MemoryStore is a Store in memory, for tests and for a sender without
// durable storage. Safe for concurrent use.
type MemoryStore struct {
	mu     sync.Mutex
	tokens map[string]memoryToken
}

type memoryToken struct {
	token   string
	expires time.Time
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{tokens: map[string]memoryToken{}} }

// Token returns the token under key, or storage.ErrNotFound.
func (m *MemoryStore) Token(_ context.Context, key string) (string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[key]
	if !ok {
		return "", time.Time{}, storage.ErrNotFound
	}
	return t.token, t.expires, nil
}

// PutToken stores token under key.
func (m *MemoryStore) PutToken(_ context.Context, key, token string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[key] = memoryToken{token: token, expires: expires}
	return nil
}

// DeleteToken deletes key while it holds token.
func (m *MemoryStore) DeleteToken(_ context.Context, key, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tokens[key]; ok && t.token == token {
		delete(m.tokens, key)
	}
	return nil
}
