package tokens_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/tokens"
)

// The sender's storage interface is what production hands the broker.
var _ tokens.Store = storage.Store(nil)

// clock is a settable clock shared by a test's brokers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fetcher is a fake platform: each call returns "tok-N" with a fixed
// lifetime, or the error set in err. gate, when set, holds every fetch
// until it is closed.
type fetcher struct {
	calls   atomic.Int64
	life    time.Duration
	mu      sync.Mutex
	err     error
	gate    chan struct{}
	started chan struct{}
	sameTok string // when set, every fetch returns this token
}

func (f *fetcher) Fetch(ctx context.Context) (string, time.Duration, error) {
	n := f.calls.Add(1)
	f.mu.Lock()
	gate, started, err, same := f.gate, f.started, f.err, f.sameTok
	f.mu.Unlock()
	if started != nil {
		select {
		case started <- struct{}{}:
		default:
		}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return "", 0, ctx.Err()
		}
	}
	if err != nil {
		return "", 0, err
	}
	tok := fmt.Sprintf("tok-%d", n)
	if same != "" {
		tok = same
	}
	return tok, f.life, nil
}

func (f *fetcher) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func newBroker(t *testing.T, st tokens.Store, f *fetcher, c *clock, opts ...tokens.Option) *tokens.Broker {
	t.Helper()
	opts = append([]tokens.Option{tokens.WithClock(c.Now)}, opts...)
	return tokens.New("wechat/wxtest/stable", st, f.Fetch, opts...)
}

func mustGet(t *testing.T, b *tokens.Broker) string {
	t.Helper()
	tok, err := b.Get(context.Background())
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return tok
}

func TestSingleFlight(t *testing.T) {
	t.Parallel()
	f := &fetcher{life: 2 * time.Hour, gate: make(chan struct{}), started: make(chan struct{}, 1)}
	b := newBroker(t, tokens.NewMemoryStore(), f, newClock())

	const n = 100
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = b.Get(context.Background())
		}()
	}
	<-f.started
	// Let the other callers pile up on the running fetch before it ends.
	time.Sleep(50 * time.Millisecond)
	close(f.gate)
	wg.Wait()

	if c := f.calls.Load(); c != 1 {
		t.Fatalf("fetches = %d, want exactly 1 for %d concurrent Gets", c, n)
	}
	for i := range n {
		if errs[i] != nil || got[i] != "tok-1" {
			t.Fatalf("Get #%d = %q, %v; want tok-1", i, got[i], errs[i])
		}
	}
}

func TestMarginRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		life      time.Duration
		opts      []tokens.Option
		refreshAt time.Duration // from the fetch
	}{
		{name: "default margin", life: 2 * time.Hour, refreshAt: 2*time.Hour - tokens.DefaultMargin},
		{name: "custom margin", life: 2 * time.Hour, opts: []tokens.Option{tokens.WithMargin(time.Minute)}, refreshAt: 2*time.Hour - time.Minute},
		// A lifetime within the margin refreshes halfway, not on every Get.
		{name: "lifetime shorter than margin", life: 4 * time.Minute, refreshAt: 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			f := &fetcher{life: tt.life}
			b := newBroker(t, tokens.NewMemoryStore(), f, c, tt.opts...)
			if tok := mustGet(t, b); tok != "tok-1" {
				t.Fatalf("first Get = %q", tok)
			}
			c.Advance(tt.refreshAt - time.Second)
			if tok := mustGet(t, b); tok != "tok-1" || f.calls.Load() != 1 {
				t.Fatalf("before the margin: Get = %q after %d fetches; want tok-1 after 1", tok, f.calls.Load())
			}
			c.Advance(time.Second)
			if tok := mustGet(t, b); tok != "tok-2" || f.calls.Load() != 2 {
				t.Fatalf("at the margin: Get = %q after %d fetches; want tok-2 after 2", tok, f.calls.Load())
			}
			if tok := mustGet(t, b); tok != "tok-2" || f.calls.Load() != 2 {
				t.Fatalf("after refresh: Get = %q after %d fetches; want cached tok-2", tok, f.calls.Load())
			}
		})
	}
}

func TestRefreshFailureKeepsValidToken(t *testing.T) {
	t.Parallel()
	c := newClock()
	f := &fetcher{life: time.Hour}
	var fetchErrs atomic.Int64
	b := newBroker(t, nil, f, c, tokens.WithFailureBackoff(10*time.Second),
		tokens.WithOnFetch(func(err error) {
			if err != nil {
				fetchErrs.Add(1)
			}
		}))
	mustGet(t, b)
	boom := errors.New("platform busy")
	f.setErr(boom)

	c.Advance(time.Hour - time.Minute) // inside the margin, still valid
	if tok := mustGet(t, b); tok != "tok-1" {
		t.Fatalf("Get inside the margin with a failing fetch = %q, want the still-valid tok-1", tok)
	}
	if f.calls.Load() != 2 || fetchErrs.Load() != 1 {
		t.Fatalf("fetches = %d (failed %d), want 2 (1 failed)", f.calls.Load(), fetchErrs.Load())
	}
	c.Advance(5 * time.Second)
	mustGet(t, b)
	if f.calls.Load() != 2 {
		t.Fatalf("a Get within the failure backoff fetched again (%d fetches)", f.calls.Load())
	}

	c.Advance(time.Minute) // expired now
	_, err := b.Get(context.Background())
	if !errors.Is(err, boom) {
		t.Fatalf("Get after expiry with a failing fetch: err = %v, want it to wrap %v", err, boom)
	}
	if !strings.Contains(err.Error(), "wechat/wxtest/stable") {
		t.Errorf("error %q does not name the app", err)
	}
	// Within the backoff the error is served without another fetch.
	calls := f.calls.Load()
	if _, err := b.Get(context.Background()); !errors.Is(err, boom) || f.calls.Load() != calls {
		t.Fatalf("Get within the backoff: err = %v after %d fetches, want the held error after %d", err, f.calls.Load(), calls)
	}
	// The second failure in a row doubled the backoff to 20 s.
	c.Advance(10 * time.Second)
	f.setErr(nil)
	if _, err := b.Get(context.Background()); !errors.Is(err, boom) || f.calls.Load() != calls {
		t.Fatalf("Get 10 s after a second failure: err = %v after %d fetches, want the held error", err, f.calls.Load())
	}
	c.Advance(10 * time.Second)
	if tok := mustGet(t, b); tok == "tok-1" || f.calls.Load() != calls+1 {
		t.Fatalf("after the backoff: Get = %q after %d fetches, want a new token after %d", tok, f.calls.Load(), calls+1)
	}
}

func TestInvalidate(t *testing.T) {
	t.Parallel()

	t.Run("many failing sends cause one refetch", func(t *testing.T) {
		t.Parallel()
		f := &fetcher{life: 2 * time.Hour}
		st := tokens.NewMemoryStore()
		b := newBroker(t, st, f, newClock())
		stale := mustGet(t, b)

		const n = 50
		var wg sync.WaitGroup
		var dropped atomic.Int64
		got := make([]string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if b.Invalidate(context.Background(), stale) {
					dropped.Add(1)
				}
				tok, err := b.Get(context.Background())
				if err != nil {
					t.Errorf("Get: %v", err)
				}
				got[i] = tok
			}()
		}
		wg.Wait()
		if dropped.Load() != 1 {
			t.Errorf("Invalidate dropped the token %d times, want 1", dropped.Load())
		}
		if f.calls.Load() != 2 {
			t.Fatalf("fetches = %d, want 2 (the first and one refetch)", f.calls.Load())
		}
		for i, tok := range got {
			if tok != "tok-2" {
				t.Fatalf("Get #%d after invalidation = %q, want tok-2", i, tok)
			}
		}
		if tok, _, err := st.Token(context.Background(), b.Key()); err != nil || tok != "tok-2" {
			t.Fatalf("store holds %q, %v; want tok-2", tok, err)
		}
	})

	t.Run("a token no longer current is ignored", func(t *testing.T) {
		t.Parallel()
		f := &fetcher{life: 2 * time.Hour}
		b := newBroker(t, nil, f, newClock())
		old := mustGet(t, b)
		b.Invalidate(context.Background(), old)
		cur := mustGet(t, b)
		for _, tok := range []string{old, "", "never-issued"} {
			if b.Invalidate(context.Background(), tok) {
				t.Errorf("Invalidate(%q) dropped the current token %q", tok, cur)
			}
		}
		if tok := mustGet(t, b); tok != cur || f.calls.Load() != 2 {
			t.Fatalf("Get = %q after %d fetches, want %q after 2", tok, f.calls.Load(), cur)
		}
	})

	t.Run("the platform may hand back the same token", func(t *testing.T) {
		t.Parallel()
		// WeChat's stable_token returns the current token while it is
		// valid; after a spurious rejection the broker must adopt it again.
		f := &fetcher{life: 2 * time.Hour, sameTok: "stable-A"}
		b := newBroker(t, tokens.NewMemoryStore(), f, newClock())
		tok := mustGet(t, b)
		b.Invalidate(context.Background(), tok)
		if again := mustGet(t, b); again != "stable-A" || f.calls.Load() != 2 {
			t.Fatalf("Get = %q after %d fetches, want stable-A after 2", again, f.calls.Load())
		}
	})

	t.Run("an invalidated token is not adopted from the store", func(t *testing.T) {
		t.Parallel()
		f := &fetcher{life: 2 * time.Hour}
		st := &failingStore{MemoryStore: tokens.NewMemoryStore(), failDelete: true}
		var storeErrs atomic.Int64
		b := newBroker(t, st, f, newClock(), tokens.WithOnStoreError(func(error) { storeErrs.Add(1) }))
		stale := mustGet(t, b)
		b.Invalidate(context.Background(), stale) // the delete fails: the store keeps it
		if tok := mustGet(t, b); tok == stale {
			t.Fatalf("Get after Invalidate returned the stale token %q from the store", tok)
		}
		if storeErrs.Load() != 1 {
			t.Errorf("store errors reported = %d, want 1", storeErrs.Load())
		}
	})
}

func TestPersistenceAcrossInstances(t *testing.T) {
	t.Parallel()
	c := newClock()
	st := tokens.NewMemoryStore()
	f := &fetcher{life: 2 * time.Hour}

	first := newBroker(t, st, f, c)
	tok := mustGet(t, first)

	// A restart: a new broker over the same store does not fetch.
	c.Advance(time.Hour)
	second := newBroker(t, st, f, c)
	if got := mustGet(t, second); got != tok || f.calls.Load() != 1 {
		t.Fatalf("after restart Get = %q after %d fetches, want the stored %q after 1", got, f.calls.Load(), tok)
	}

	// The second instance drops it; a third finds nothing stored and fetches.
	second.Invalidate(context.Background(), tok)
	third := newBroker(t, st, f, c)
	if got := mustGet(t, third); got == tok || f.calls.Load() != 2 {
		t.Fatalf("after invalidation Get = %q after %d fetches, want a new token after 2", got, f.calls.Load())
	}

	// A stored token inside the margin is not adopted: it is refreshed.
	c.Advance(2*time.Hour - 2*time.Minute)
	fourth := newBroker(t, st, f, c)
	if got := mustGet(t, fourth); f.calls.Load() != 3 {
		t.Fatalf("a stored token 2 minutes before expiry was adopted (%q, %d fetches)", got, f.calls.Load())
	}
}

func TestStoreErrorsDoNotFailGet(t *testing.T) {
	t.Parallel()
	st := &failingStore{MemoryStore: tokens.NewMemoryStore(), failAll: true}
	var storeErrs atomic.Int64
	f := &fetcher{life: time.Hour}
	b := newBroker(t, st, f, newClock(), tokens.WithOnStoreError(func(err error) {
		if !strings.Contains(err.Error(), "wechat/wxtest/stable") {
			t.Errorf("store error %q does not name the app", err)
		}
		storeErrs.Add(1)
	}))
	if tok := mustGet(t, b); tok != "tok-1" {
		t.Fatalf("Get with a failing store = %q", tok)
	}
	if storeErrs.Load() != 2 { // load and save
		t.Fatalf("store errors = %d, want 2 (load, save)", storeErrs.Load())
	}
}

func TestGetHonoursCallerContext(t *testing.T) {
	t.Parallel()
	f := &fetcher{life: time.Hour, gate: make(chan struct{}), started: make(chan struct{}, 1)}
	b := newBroker(t, nil, f, newClock())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.Get(ctx)
		done <- err
	}()
	<-f.started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a cancelled context: err = %v, want context.Canceled", err)
	}
	// The fetch itself carries on for the others and fills the cache.
	close(f.gate)
	if tok := mustGet(t, b); tok != "tok-1" || f.calls.Load() != 1 {
		t.Fatalf("Get after the detached fetch = %q after %d fetches, want tok-1 after 1", tok, f.calls.Load())
	}
}

func TestFetchTimeout(t *testing.T) {
	t.Parallel()
	f := &fetcher{life: time.Hour, gate: make(chan struct{})} // never released
	b := newBroker(t, nil, f, newClock(), tokens.WithFetchTimeout(20*time.Millisecond))
	if _, err := b.Get(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get with a hanging fetch: err = %v, want a deadline", err)
	}
}

func TestBadFetchAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fetch tokens.FetchFunc
	}{
		{"empty token", func(context.Context) (string, time.Duration, error) { return "", time.Hour, nil }},
		{"no lifetime", func(context.Context) (string, time.Duration, error) { return "t", 0, nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := tokens.New("app", nil, tt.fetch)
			if tok, err := b.Get(context.Background()); err == nil {
				t.Fatalf("Get = %q, want an error", tok)
			}
		})
	}
}

// TestConcurrentUse mixes Gets, Invalidates and a moving clock; run with
// -race. Fetches stay bounded by the invalidations and refreshes.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	c := newClock()
	f := &fetcher{life: 10 * time.Minute}
	st := tokens.NewMemoryStore()
	b := newBroker(t, st, f, c, tokens.WithMargin(time.Minute))
	var wg sync.WaitGroup
	var invalidated atomic.Int64
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				tok, err := b.Get(context.Background())
				if err != nil {
					t.Errorf("Get: %v", err)
					return
				}
				if (w+i)%37 == 0 && b.Invalidate(context.Background(), tok) {
					invalidated.Add(1)
				}
				if w == 0 && i%20 == 0 {
					c.Advance(time.Minute)
				}
			}
		}()
	}
	wg.Wait()
	// 10 one-minute steps: at most 10/9 margin refreshes, plus one fetch per
	// successful invalidation, plus the first.
	if limit := 1 + invalidated.Load() + 2; f.calls.Load() > limit {
		t.Fatalf("fetches = %d, want at most %d", f.calls.Load(), limit)
	}
}

type failingStore struct {
	*tokens.MemoryStore
	failAll, failDelete bool
}

var errStore = errors.New("disk on fire")

func (s *failingStore) Token(ctx context.Context, key string) (string, time.Time, error) {
	if s.failAll {
		return "", time.Time{}, errStore
	}
	return s.MemoryStore.Token(ctx, key)
}

func (s *failingStore) PutToken(ctx context.Context, key, token string, expires time.Time) error {
	if s.failAll {
		return errStore
	}
	return s.MemoryStore.PutToken(ctx, key, token, expires)
}

func (s *failingStore) DeleteToken(ctx context.Context, key, token string) error {
	if s.failAll || s.failDelete {
		return errStore
	}
	return s.MemoryStore.DeleteToken(ctx, key, token)
}

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := tokens.NewMemoryStore()
	if _, _, err := st.Token(ctx, "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("empty store: err = %v, want storage.ErrNotFound", err)
	}
	exp := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	_ = st.PutToken(ctx, "k", "a", exp)
	_ = st.DeleteToken(ctx, "k", "b") // not the stored token: kept
	if tok, got, err := st.Token(ctx, "k"); err != nil || tok != "a" || !got.Equal(exp) {
		t.Fatalf("Token = %q, %v, %v; want a, %v", tok, got, err, exp)
	}
	_ = st.DeleteToken(ctx, "k", "a")
	if _, _, err := st.Token(ctx, "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("after delete: err = %v, want storage.ErrNotFound", err)
	}
}

// A Get that fetches reports the fetch to its context's observer, failed
// or not; a Get served from the cache reports nothing. State follows.
func TestFetchObserverAndState(t *testing.T) {
	t.Parallel()
	fail := true
	fetch := func(context.Context) (string, time.Duration, error) {
		if fail {
			return "", 0, errors.New("wrong secret")
		}
		return "tok-1", time.Hour, nil
	}
	b := tokens.New("test/app", nil, fetch, tokens.WithFailureBackoff(0))
	var seen []tokens.Fetch
	ctx := tokens.WithFetchObserver(context.Background(), func(f tokens.Fetch) { seen = append(seen, f) })
	if _, err := b.Get(ctx); err == nil {
		t.Fatal("Get succeeded with a failing fetch")
	}
	if st := b.State(); st.Failures != 1 || !strings.Contains(st.LastError, "wrong secret") || !st.ValidUntil.IsZero() {
		t.Fatalf("State after a failure = %+v", st)
	}
	fail = false
	if tok, err := b.Get(ctx); err != nil || tok != "tok-1" {
		t.Fatalf("Get = %q, %v", tok, err)
	}
	if _, err := b.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0].Err == nil || seen[1].Err != nil || seen[1].At.IsZero() {
		t.Fatalf("observed %+v, want the failed and the good fetch, not the cached Get", seen)
	}
	if st := b.State(); st.Failures != 0 || st.ValidUntil.Before(time.Now().Add(50*time.Minute)) || st.RefreshedAt.IsZero() {
		t.Fatalf("State after a fetch = %+v", st)
	}
}
