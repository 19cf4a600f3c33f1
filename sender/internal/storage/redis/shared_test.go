package redis_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/redistest"
	"github.com/minipush/minipush/sender/internal/ratelimit"
	"github.com/minipush/minipush/sender/internal/storage/redis"
	"github.com/minipush/minipush/sender/internal/tokens"
)

// instances opens n stores on one Redis under one prefix: n sender
// instances of one deployment, each with its own connections.
func instances(t *testing.T, srv *redistest.Server, n int) []*redis.Store {
	t.Helper()
	prefix := fmt.Sprintf("dep%d", prefixes.Add(1))
	out := make([]*redis.Store, n)
	for i := range out {
		out[i] = open(t, srv, redis.Config{Prefix: prefix})
	}
	return out
}

// platform counts token fetches; each fetch takes a moment, as a real one.
type platform struct {
	fetches atomic.Int64
	life    time.Duration
}

func (p *platform) fetch(context.Context) (string, time.Duration, error) {
	n := p.fetches.Add(1)
	time.Sleep(20 * time.Millisecond)
	return fmt.Sprintf("tok-%d", n), p.life, nil
}

// TestTokenOneFetchAcrossInstances: three instances, 30 callers each, an
// empty store: one fetch for the deployment, and every caller gets that
// token. When it expires, one fetch again.
func TestTokenOneFetchAcrossInstances(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	stores := instances(t, srv, 3)
	p := &platform{life: time.Hour}
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	brokers := make([]*tokens.Broker, len(stores))
	for i, s := range stores {
		brokers[i] = tokens.New("wechat/wx1", s, p.fetch, tokens.WithClock(now), tokens.WithMargin(5*time.Minute))
	}
	getAll := func() map[string]int {
		var (
			mu   sync.Mutex
			got  = map[string]int{}
			wg   sync.WaitGroup
			errs = make(chan error, 90)
		)
		for _, b := range brokers {
			for range 30 {
				wg.Go(func() {
					tok, err := b.Get(context.Background())
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					got[tok]++
					mu.Unlock()
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		return got
	}
	if got := getAll(); len(got) != 1 || p.fetches.Load() != 1 {
		t.Fatalf("empty store: %d fetches, tokens handed out %v; want 1 fetch, one token", p.fetches.Load(), got)
	}
	// Into the refresh margin: one instance refreshes, the others keep the
	// old token meanwhile and then read the new one.
	clock.Add(int64(56 * time.Minute))
	getAll()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := getAll()
		if len(got) == 1 && got["tok-2"] == 90 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the refresh the instances serve %v", got)
		}
		time.Sleep(20 * time.Millisecond)
		clock.Add(int64(100 * time.Millisecond)) // the waiting instances look again after a moment
	}
	if n := p.fetches.Load(); n != 2 {
		t.Errorf("%d fetches after one expiry, want 2", n)
	}
}

// TestTokenInvalidationShared: the token is rejected (40001) on every
// instance: the first drops it and fetches; the others find the new one
// in the store. One fetch, not three. Under the refetch floor a token
// another instance fetched a moment ago is kept.
func TestTokenInvalidationShared(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	stores := instances(t, srv, 3)
	p := &platform{life: time.Hour}
	ctx := context.Background()
	mk := func(floor time.Duration) []*tokens.Broker {
		out := make([]*tokens.Broker, len(stores))
		for i, s := range stores {
			out[i] = tokens.New("wechat/wx2", s, p.fetch, tokens.WithRefetchFloor(floor))
		}
		return out
	}
	brokers := mk(0)
	var first string
	for _, b := range brokers {
		tok, err := b.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		first = tok
	}
	for _, b := range brokers {
		b.Invalidate(ctx, first)
		if tok, err := b.Get(ctx); err != nil || tok == first {
			t.Fatalf("after the rejection: %q, %v", tok, err)
		}
	}
	if n := p.fetches.Load(); n != 2 {
		t.Errorf("%d fetches for one token rejected on three instances, want 2 (the first and one refetch)", n)
	}
	// With a floor: instance 1 fetched (just now); instance 2's rejection
	// of that token keeps it.
	floored := mk(time.Minute)
	tok, err := floored[0].Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := floored[1].Get(ctx); err != nil {
		t.Fatal(err)
	}
	if floored[1].Invalidate(ctx, tok) {
		t.Error("a token another instance fetched within the refetch floor was dropped")
	}
	if n := p.fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want still 2", n)
	}
	// Another instance replaced the token (the platform expired it and
	// that instance refetched): this one's rejection of the old token
	// drops it despite the floor, and it reads the new one, no fetch.
	if err := stores[2].PutToken(ctx, "wechat/wx2", "tok-replaced", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !floored[1].Invalidate(ctx, tok) {
		t.Error("a rejected token another instance already replaced was kept under the refetch floor")
	}
	if got, err := floored[1].Get(ctx); err != nil || got != "tok-replaced" {
		t.Errorf("after dropping it: %q, %v; want the replacement from the store", got, err)
	}
	if n := p.fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want still 2", n)
	}
}

// TestTokenFetchLimitShared: the fetch limit is the deployment's.
func TestTokenFetchLimitShared(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	stores := instances(t, srv, 2)
	p := &platform{life: time.Hour}
	ctx := context.Background()
	a := tokens.New("wechat/wx3", stores[0], p.fetch, tokens.WithFetchLimit(1, time.Hour))
	b := tokens.New("wechat/wx3", stores[1], p.fetch, tokens.WithFetchLimit(1, time.Hour))
	tok, err := a.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.Invalidate(ctx, tok)
	_, err = b.Get(ctx)
	var limited *tokens.FetchLimitError
	if !errors.As(err, &limited) {
		t.Fatalf("the second instance's fetch after the deployment's one allowed: %v; want a FetchLimitError", err)
	}
	if n := p.fetches.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

// TestLimiterShared: two instances' shapers share one app rate and one
// pause.
func TestLimiterShared(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	stores := instances(t, srv, 2)
	const rate = 50.0
	shapers := []*ratelimit.Shaper{
		ratelimit.New(rate, 1, 0, ratelimit.WithShared(stores[0].Limiter("app", rate, 1, 0))),
		ratelimit.New(rate, 1, 0, ratelimit.WithShared(stores[1].Limiter("app", rate, 1, 0))),
	}
	// Both instances admit as fast as they may for one second: together
	// they get the rate, not twice it.
	var admitted atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(time.Second)
	for _, s := range shapers {
		for range 4 {
			wg.Go(func() {
				for time.Now().Before(end) {
					ok, wait, retry := s.Admit("", time.Now(), 200*time.Millisecond)
					if ok {
						if time.Now().Add(wait).Before(end) {
							admitted.Add(1)
						}
						time.Sleep(wait)
						continue
					}
					time.Sleep(time.Until(retry))
				}
			})
		}
	}
	wg.Wait()
	if n := admitted.Load(); n < rate*0.8 || n > rate*1.1+1 {
		t.Errorf("two instances admitted %d sends in a second at a shared rate of %v/s", n, rate)
	}
	// A pause set by one holds on the other.
	now := time.Now()
	shapers[0].Pause(now.Add(time.Minute))
	if ok, _, retry := shapers[1].Admit("u", now.Add(time.Second), time.Second); ok || retry.Before(now.Add(50*time.Second)) {
		t.Errorf("the other instance admitted during the pause (ok %v, retry at %v)", ok, retry)
	}
	// Per-user interval across instances.
	ui := []*ratelimit.Shaper{
		ratelimit.New(0, 0, time.Second, ratelimit.WithShared(stores[0].Limiter("app2", 0, 0, time.Second))),
		ratelimit.New(0, 0, time.Second, ratelimit.WithShared(stores[1].Limiter("app2", 0, 0, time.Second))),
	}
	if ok, _, _ := ui[0].Admit("alice", time.Now(), 0); !ok {
		t.Fatal("first send to alice refused")
	}
	if ok, _, retry := ui[1].Admit("alice", time.Now(), 0); ok || time.Until(retry) < 500*time.Millisecond {
		t.Errorf("a second send to alice on the other instance within the interval: ok %v, retry in %v", ok, time.Until(retry))
	}
	if ok, _, _ := ui[1].Admit("bob", time.Now(), 0); !ok {
		t.Error("another user was held back")
	}
}
