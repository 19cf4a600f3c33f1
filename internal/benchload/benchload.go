// Package benchload drives concurrent HTTP load at one target and records
// each request's latency, for the mock's benchmarks (mockserver/bench_*_test.go) and
// the side-by-side comparison (benchcompare).
// It measures from the outside: a request counts from the moment the client
// starts it until its body has been read in full.
package benchload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Target is one kind of request, sent again and again with the same body.
type Target struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// NextBody, when set, replaces Body: each request sends what it
	// returns, for APIs that refuse a repeated request (a per-user rate, a
	// one-time id) or whose requests are signed. Workers call it
	// concurrently, before the request's clock starts; it should be cheap
	// (build costly bodies ahead, see Cycle), since its CPU still competes
	// with the server's.
	NextBody func() []byte
	// NextRequest, when set, replaces NextBody: it returns the body and
	// the headers to add to Header, for APIs that sign each request in a
	// header (Alipay OpenAPI v3's Authorization). Same rules as NextBody.
	NextRequest func() ([]byte, http.Header)
	// Check judges an answer; a non-nil error stops the run. Nil accepts any
	// answer.
	Check func(status int, body []byte) error
}

// Result is what a run measured. Results of several runs at the same target
// add up with Merge.
type Result struct {
	Requests int
	// Elapsed is the wall time of the run (all workers), not the sum of the
	// latencies.
	Elapsed time.Duration
	// Latencies holds one entry per request, in no particular order.
	Latencies []time.Duration
}

// Merge adds o's requests, wall time and latencies to r.
func (r *Result) Merge(o Result) {
	r.Requests += o.Requests
	r.Elapsed += o.Elapsed
	r.Latencies = append(r.Latencies, o.Latencies...)
}

// RPS is the throughput: requests per second of wall time.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of the
// latencies, 0 when there are none.
func (r Result) Percentile(p float64) time.Duration {
	return Percentile(r.Latencies, p)
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of lat,
// which it does not modify; 0 for an empty slice.
func Percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	// Nearest rank: the smallest value with at least p% of values <= it.
	rank := int(float64(len(s))*p/100 + 0.999999999)
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// Run sends n requests to t from workers goroutines sharing client, which
// should keep at least workers idle connections per host so the run
// measures requests, not connection set-up. It stops at the first
// transport error or failed Check and returns it.
func Run(ctx context.Context, client *http.Client, t Target, n, workers int) (Result, error) {
	if n <= 0 {
		return Result{}, nil
	}
	workers = min(max(workers, 1), n)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64 // requests claimed so far
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	lat := make([][]time.Duration, workers)
	start := time.Now()
	for w := range workers {
		lat[w] = make([]time.Duration, 0, n/workers+1)
		wg.Go(func() {
			var buf bytes.Buffer
			for next.Add(1) <= int64(n) {
				d, err := one(ctx, client, t, &buf)
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				lat[w] = append(lat[w], d)
			}
		})
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start)}
	if firstErr != nil {
		return res, firstErr
	}
	for _, l := range lat {
		res.Latencies = append(res.Latencies, l...)
	}
	res.Requests = len(res.Latencies)
	return res, nil
}

// one sends a single request and reads its whole answer into buf.
func one(ctx context.Context, client *http.Client, t Target, buf *bytes.Buffer) (time.Duration, error) {
	body := t.Body
	var extra http.Header
	switch {
	case t.NextRequest != nil:
		body, extra = t.NextRequest()
	case t.NextBody != nil:
		body = t.NextBody()
	}
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, t.Method, t.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range t.Header {
		req.Header[k] = v
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("read answer: %w", err)
	}
	if t.Check != nil {
		if err := t.Check(resp.StatusCode, buf.Bytes()); err != nil {
			return 0, err
		}
	}
	return d, nil
}

// Cycle returns a NextBody that hands out bodies in order, from the first
// again after the last, safe for concurrent use. Every call of Cycle starts
// its own sequence, so two targets given the same bodies send the same
// requests in the same order. It panics on an empty list.
func Cycle(bodies [][]byte) func() []byte {
	if len(bodies) == 0 {
		panic("benchload: Cycle of no bodies")
	}
	var next atomic.Uint64
	n := uint64(len(bodies))
	return func() []byte { return bodies[(next.Add(1)-1)%n] }
}

// Side is one server of a comparison: the client that talks to it and the
// request it is sent.
type Side struct {
	Client *http.Client
	Target Target
}

// Compare sends n requests to each of a and b from workers concurrent
// goroutines, in alternating turns of at most turn requests, and returns
// what each side measured. Short turns spread the noise of other processes
// on the machine evenly over both sides; who goes first alternates too, so
// neither always follows the other's garbage, and every turn starts after a
// full garbage collection. It stops at the first error of either side.
func Compare(ctx context.Context, a, b Side, n, turn, workers int) (resA, resB Result, err error) {
	turn = max(turn, 1)
	for round, left := 0, n; left > 0; round++ {
		k := min(turn, left)
		left -= k
		sides := [2]struct {
			s   Side
			acc *Result
		}{{a, &resA}, {b, &resB}}
		if round%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, sd := range sides {
			runtime.GC()
			res, err := Run(ctx, sd.s.Client, sd.s.Target, k, workers)
			if err != nil {
				return resA, resB, fmt.Errorf("round %d: %w", round, err)
			}
			sd.acc.Merge(res)
		}
	}
	return resA, resB, nil
}

// ErrUnexpected is what CheckPrefix returns for an answer it does not
// accept; errors.Is finds it.
var ErrUnexpected = errors.New("unexpected answer")

// CheckPrefix accepts HTTP 200 answers whose body starts with prefix (a
// cheap success test, the same cost for every target).
func CheckPrefix(prefix string) func(int, []byte) error {
	return func(status int, body []byte) error {
		if status != http.StatusOK || !bytes.HasPrefix(body, []byte(prefix)) {
			return fmt.Errorf("%w: HTTP %d %.200s", ErrUnexpected, status, body)
		}
		return nil
	}
}
