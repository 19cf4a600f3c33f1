package mockserver_test

// Benchmarks of the mock as a load-test target (make bench).
//
// BenchmarkSubscribeSend puts the mock's subscribe/send next to the cheapest
// possible server of the same API — a net/http handler that decodes the body
// and encodes a fixed answer — on the same machine, over real loopback
// sockets, in one run: the rounds alternate between the two so both see the
// same machine load. Targets (reported, not asserted): throughput at least
// 0.7× the baseline's, p99 at most 2× the baseline's.
//
// BenchmarkLongRunMemory sends far more messages than the inbox and journal
// hold and reports the heap before and after: bounded rings keep it flat.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/sendcases"
	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
)

const (
	benchAppID  = sendcases.WeChatAppID
	benchSecret = sendcases.WeChatSecret
	// benchWorkers is the number of concurrent client goroutines, each with
	// its own keep-alive connection.
	benchWorkers = 32
	// benchTurn is how many sends one side makes before the other takes its
	// turn. Short turns spread noise from other processes evenly over both
	// sides; long enough turns keep the ramp-up and drain of the workers at
	// each turn's edges a small part of it.
	benchTurn = 1000
)

// benchBody is what a typical sender posts (sendcases.WeChatBody).
var benchBody = sendcases.WeChatBody

// benchSeed is one app whose user holds a long-term grant, so every send
// succeeds however many are made.
func benchSeed() mockapi.Seed { return mockapi.Seed{Apps: []mockapi.App{sendcases.WeChatApp()}} }

// keepAliveClient keeps enough idle connections for every worker.
func keepAliveClient(workers int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns: 2 * workers, MaxIdleConnsPerHost: 2 * workers,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}}
}

// fetchToken gets an access token from the mock at base.
func fetchToken(tb testing.TB, c *http.Client, base string) string {
	tb.Helper()
	tok, err := sendcases.WeChatToken(c, base)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// BenchmarkSubscribeSend: b.N sends to the mock and b.N to the baseline, in
// alternating turns of benchTurn sends from benchWorkers concurrent
// keep-alive clients. ns/op is the mock's wall time per send
// (1/throughput); the other metrics compare the two servers.
func BenchmarkSubscribeSend(b *testing.B) { benchCases(b, "wechat_subscribe") }

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// Long-run settings: far more messages than the rings hold.
const (
	longRunMessages = 300_000
	longRunRing     = 10_000
	// longRunWarm fills both rings twice before the first measurement, so
	// "before" already counts full rings.
	longRunWarm = 2 * longRunRing
)

// BenchmarkLongRunMemory sends longRunMessages (or b.N, if larger) through
// a mock whose inbox and journal hold longRunRing entries each, and reports
// the heap in use (after a GC) once the rings are full and again at the end.
// heap_growth near 1 means memory is flat. Sends go straight to the
// handler, without sockets, so the heap holds the mock's state and little
// else. ns/op is per message. -short sends only 3×longRunRing.
func BenchmarkLongRunMemory(b *testing.B) {
	srv, err := mockserver.New(mockserver.WithSeed(benchSeed()),
		mockserver.WithInboxLimit(longRunRing), mockserver.WithJournalLimit(longRunRing))
	if err != nil {
		b.Fatalf("new mock: %v", err)
	}
	h := srv.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/cgi-bin/token?grant_type=client_credential&appid="+
		benchAppID+"&secret="+benchSecret, nil))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		b.Fatalf("token: %s", rec.Body)
	}
	path := "/cgi-bin/message/subscribe/send?access_token=" + url.QueryEscape(tok.AccessToken)

	total := max(b.N, longRunMessages)
	if testing.Short() { // a smoke run: still three times round the rings
		total = max(b.N, 3*longRunRing)
	}
	send := func(n int) {
		workers := runtime.GOMAXPROCS(0)
		var (
			next    atomic.Int64
			wg      sync.WaitGroup
			errOnce sync.Once
			failure string
		)
		for range workers {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(benchBody))
					req.Header.Set("Content-Type", "application/json")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), `{"errcode":0,`) {
						errOnce.Do(func() { failure = fmt.Sprintf("HTTP %d %s", w.Code, w.Body) })
						return
					}
				}
			})
		}
		wg.Wait()
		if failure != "" {
			b.Fatalf("send: %s", failure)
		}
	}

	b.ResetTimer()
	start := time.Now()
	send(longRunWarm)
	before := heapInUse()
	send(total - longRunWarm)
	after := heapInUse()
	elapsed := time.Since(start)
	b.StopTimer()

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_mock/stats", nil))
	var st mockapi.Stats
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		b.Fatalf("stats: %v: %s", err, rec.Body)
	}
	if st.Messages != longRunRing || st.Delivered != uint64(total) || st.Dropped != uint64(total-longRunRing) {
		b.Fatalf("inbox holds %d (delivered %d, dropped %d), want %d held of %d", st.Messages, st.Delivered, st.Dropped, longRunRing, total)
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(total), "ns/op")
	b.ReportMetric(float64(total), "messages")
	b.ReportMetric(float64(before)/(1<<20), "heap_before_MiB")
	b.ReportMetric(float64(after)/(1<<20), "heap_after_MiB")
	b.ReportMetric(float64(after)/float64(before), "heap_growth")
}

// heapInUse is HeapInuse after two GCs (the second sweeps what finalizers
// of the first released).
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
