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
//   - holds a failed fetch's error for a short while (DefaultFailureBackoff)
//     so a broken secret does not turn every send into a token call.
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
)

// Store persists tokens. storage.Store satisfies it; tests use MemoryStore.
// Token returns storage.ErrNotFound when there is none. DeleteToken deletes
// key only while it still holds token (so an instance dropping a stale token
// cannot delete a newer one).
type Store interface {
	Token(ctx context.Context, key string) (token string, expires time.Time, err error)
	PutToken(ctx context.Context, key, token string, expires time.Time) error
	DeleteToken(ctx context.Context, key, token string) error
}

// FetchFunc gets a new token from the platform. Its errors are returned to
// callers (wrapped), so they must not contain the app secret.
type FetchFunc func(ctx context.Context) (token string, expiresIn time.Duration, err error)

type options struct {
	margin         time.Duration
	fetchTimeout   time.Duration
	failureBackoff time.Duration
	now            func() time.Time
	onFetch        func(err error)
	onStoreError   func(err error)
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

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithOnFetch is called after every fetch with its error (nil on success):
// a hook for a fetch counter.
func WithOnFetch(f func(err error)) Option { return func(o *options) { o.onFetch = f } }

// WithOnStoreError is called when the store fails to load, save or delete a
// token. Such failures never fail a Get: the token still works in memory.
func WithOnStoreError(f func(err error)) Option { return func(o *options) { o.onStoreError = f } }

// Broker holds one app's access token. Safe for concurrent use.
type Broker struct {
	key   string
	store Store
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
}

// New returns a broker for the token stored under key (e.g.
// "wechat/wx123/stable"; the key also names the app in errors, so it must
// not hold a secret). store may be nil: the token then lives in memory only.
func New(key string, store Store, fetch FetchFunc, opts ...Option) *Broker {
	o := options{margin: DefaultMargin, fetchTimeout: DefaultFetchTimeout, failureBackoff: DefaultFailureBackoff,
		now: time.Now, onFetch: func(error) {}, onStoreError: func(error) {}}
	for _, opt := range opts {
		opt(&o)
	}
	return &Broker{key: key, store: store, fetch: fetch, opts: o}
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

	tok, expiresIn, err := b.fetch(ctx)
	if err == nil {
		switch {
		case tok == "":
			err = errors.New("platform answered an empty token")
		case expiresIn <= 0:
			err = fmt.Errorf("platform answered a token lifetime of %s", expiresIn)
		}
	}
	b.opts.onFetch(err)
	now = b.opts.now()
	if err != nil {
		err = fmt.Errorf("fetch access token for %s: %w", b.key, err)
		b.mu.Lock()
		b.failErr, b.failUntil = err, now.Add(b.opts.failureBackoff)
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
	b.failErr, b.failUntil = nil, time.Time{}
}

// Invalidate drops token because the platform rejected it (WeChat 40001,
// 42001), but only while it is still the current token: when many sends
// fail with the same stale token, the first drops it and the others find
// the new one. It reports whether it dropped the token. The next Get
// fetches; the token is also deleted from the store (only if the store
// still holds it) and never adopted from the store again.
func (b *Broker) Invalidate(ctx context.Context, token string) bool {
	b.mu.Lock()
	if token == "" || token != b.token {
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
