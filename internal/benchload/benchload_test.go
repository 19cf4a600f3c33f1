package benchload_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/benchload"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		lat  []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 99, 0},
		{"single", ms(7), 99, 7 * time.Millisecond},
		{"median of 1..10", ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 50, 5 * time.Millisecond},
		{"p99 of 1..100", ms(seq(100)...), 99, 99 * time.Millisecond},
		{"p100 is max", ms(3, 1, 2), 100, 3 * time.Millisecond},
		{"tiny p is min", ms(3, 1, 2), 0.1, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := fmt.Sprint(tt.lat)
			if got := benchload.Percentile(tt.lat, tt.p); got != tt.want {
				t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
			if fmt.Sprint(tt.lat) != before {
				t.Errorf("Percentile reordered its input")
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = n - i
	}
	return out
}

func TestRunSendsExactlyNAndMeasuresEach(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || string(b) != `{"x":1}` || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		hits.Add(1)
		_, _ = io.WriteString(w, `{"errcode":0}`)
	}))
	t.Cleanup(srv.Close)
	target := benchload.Target{
		Method: http.MethodPost, URL: srv.URL, Body: []byte(`{"x":1}`),
		Header: http.Header{"Content-Type": {"application/json"}},
		Check:  benchload.CheckPrefix(`{"errcode":0`),
	}
	var total benchload.Result
	for range 2 {
		res, err := benchload.Run(context.Background(), srv.Client(), target, 101, 8)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		total.Merge(res)
	}
	if hits.Load() != 202 || total.Requests != 202 || len(total.Latencies) != 202 {
		t.Fatalf("hits %d, requests %d, latencies %d; want 202 each", hits.Load(), total.Requests, len(total.Latencies))
	}
	if total.Elapsed <= 0 || total.RPS() <= 0 {
		t.Fatalf("elapsed %v rps %v, want both > 0", total.Elapsed, total.RPS())
	}
	for _, d := range total.Latencies {
		if d <= 0 || d > total.Elapsed {
			t.Fatalf("latency %v outside (0, %v]", d, total.Elapsed)
		}
	}
}

func TestRunStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if hits.Add(1) == 5 {
			_, _ = io.WriteString(w, `{"errcode":45009}`)
			return
		}
		_, _ = io.WriteString(w, `{"errcode":0}`)
	}))
	t.Cleanup(srv.Close)
	target := benchload.Target{Method: http.MethodGet, URL: srv.URL, Check: benchload.CheckPrefix(`{"errcode":0`)}
	_, err := benchload.Run(context.Background(), srv.Client(), target, 10_000, 4)
	if !errors.Is(err, benchload.ErrUnexpected) {
		t.Fatalf("Run error = %v, want ErrUnexpected", err)
	}
	if n := hits.Load(); n >= 10_000 {
		t.Fatalf("server saw %d requests: the run did not stop", n)
	}
}

func TestRunReportsTransportErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	_, err := benchload.Run(context.Background(), http.DefaultClient, benchload.Target{Method: http.MethodGet, URL: url}, 3, 2)
	if err == nil {
		t.Fatal("Run against a closed listener succeeded")
	}
}

func TestCheckPrefix(t *testing.T) {
	t.Parallel()
	check := benchload.CheckPrefix(`{"errcode":0,`)
	tests := []struct {
		name   string
		status int
		body   string
		ok     bool
	}{
		{"success", 200, `{"errcode":0,"errmsg":"ok"}`, true},
		{"platform error", 200, `{"errcode":43101,"errmsg":"x"}`, false},
		{"http error", 503, `{"errcode":0,"errmsg":"ok"}`, false},
		{"empty", 200, ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := check(tt.status, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Fatalf("check(%d, %q) = %v, want ok=%v", tt.status, tt.body, err, tt.ok)
			}
		})
	}
}

func TestCycleRepeatsInOrderAndIsIndependent(t *testing.T) {
	t.Parallel()
	bodies := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	next, other := benchload.Cycle(bodies), benchload.Cycle(bodies)
	var got []byte
	for range 7 {
		got = append(got, next()...)
	}
	if string(got) != "abcabca" {
		t.Fatalf("Cycle gave %q, want %q", got, "abcabca")
	}
	if b := other(); string(b) != "a" {
		t.Fatalf("a second Cycle starts at %q, want %q", b, "a")
	}
}

func TestCycleConcurrentCoversEveryBodyEqually(t *testing.T) {
	t.Parallel()
	const kinds, rounds = 8, 100
	bodies := make([][]byte, kinds)
	for i := range bodies {
		bodies[i] = []byte{byte('a' + i)}
	}
	next := benchload.Cycle(bodies)
	var counts [kinds]atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range kinds * rounds / 4 {
				counts[next()[0]-'a'].Add(1)
			}
		})
	}
	wg.Wait()
	for i := range counts {
		if n := counts[i].Load(); n != rounds {
			t.Errorf("body %c sent %d times, want %d", 'a'+i, n, rounds)
		}
	}
}

func TestRunSendsNextBody(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[string(b)]++
		mu.Unlock()
		_, _ = io.WriteString(w, `{"errcode":0}`)
	}))
	t.Cleanup(srv.Close)
	target := benchload.Target{
		Method: http.MethodPost, URL: srv.URL, Body: []byte("ignored"),
		NextBody: benchload.Cycle([][]byte{[]byte("one"), []byte("two")}),
	}
	if _, err := benchload.Run(context.Background(), srv.Client(), target, 10, 3); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(seen) != 2 || seen["one"] != 5 || seen["two"] != 5 {
		t.Fatalf("server saw %v, want one and two 5 times each (Body ignored)", seen)
	}
}

func TestCompareAlternatesTurns(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		order []byte // one letter per turn change: the side that answered
	)
	side := func(name byte) benchload.Side {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			if len(order) == 0 || order[len(order)-1] != name {
				order = append(order, name)
			}
			mu.Unlock()
			_, _ = io.WriteString(w, `{"errcode":0}`)
		}))
		t.Cleanup(srv.Close)
		return benchload.Side{Client: srv.Client(), Target: benchload.Target{Method: http.MethodGet, URL: srv.URL}}
	}
	a, b := side('a'), side('b')
	resA, resB, err := benchload.Compare(context.Background(), a, b, 25, 10, 2)
	if err != nil {
		t.Fatalf("Compare: %v", err)
	}
	if resA.Requests != 25 || resB.Requests != 25 {
		t.Fatalf("requests a %d b %d, want 25 each", resA.Requests, resB.Requests)
	}
	// Turns of 10, 10, 5: a b, then b a, then a b. Back-to-back turns of
	// one side read as one letter, so a b|b a|a b reads abab.
	if string(order) != "abab" {
		t.Fatalf("turn order %q, want abab (a b | b a | a b)", order)
	}
}

func TestCompareStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"errcode":0}`)
	}))
	t.Cleanup(ok.Close)
	var badHits atomic.Int64
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		badHits.Add(1)
		_, _ = io.WriteString(w, `{"errcode":1}`)
	}))
	t.Cleanup(bad.Close)
	check := benchload.CheckPrefix(`{"errcode":0}`)
	a := benchload.Side{Client: ok.Client(), Target: benchload.Target{Method: http.MethodGet, URL: ok.URL, Check: check}}
	b := benchload.Side{Client: bad.Client(), Target: benchload.Target{Method: http.MethodGet, URL: bad.URL, Check: check}}
	_, _, err := benchload.Compare(context.Background(), a, b, 1000, 100, 1)
	if !errors.Is(err, benchload.ErrUnexpected) {
		t.Fatalf("Compare error = %v, want ErrUnexpected", err)
	}
	if n := badHits.Load(); n != 1 {
		t.Fatalf("failing side saw %d requests, want 1 (one worker stops at the first failure)", n)
	}
}
