package mockserver_test

// BenchmarkPlatformSend puts each platform's send next to the cheapest
// server of the same request (internal/sendcases: a plain net/http handler
// that decodes the body — JSON, or a form without parsing the JSON carried
// inside its fields — and writes the platform's success answer): same
// machine, real loopback sockets, one run, alternating turns of benchTurn
// sends from benchWorkers keep-alive clients. Targets (reported, not
// asserted): ratio_rps ≥ 0.85 and ratio_p99 ≤ 2. Alipay verifies an RSA
// signature on every request, which its plain handler does not
// (docs/performance.md).
//
// Every mock answer must be the platform's success; any other answer is
// counted and fails the benchmark, and the mock's own count of delivered
// messages (or of activity updates) must match the sends.
//
// BenchmarkWeChatSurfaceSend and BenchmarkAlipayV3Send are the same for
// WeChat's customer-service and updatable sends and Alipay OpenAPI v3.
// make bench-compare runs the same cases with each server in its own
// process, reporting CPU per request (benchcompare).

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/minipush/minipush/internal/benchload"
	"github.com/minipush/minipush/internal/sendcases"
	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// BenchmarkPlatformSend: one sub-benchmark per platform send; b.N sends to
// the mock and b.N to the baseline. ns/op is the mock's wall time per send.
func BenchmarkPlatformSend(b *testing.B) {
	benchCases(b, "douyin_v2", "douyin_v1", "kuaishou", "kuaishou_json", "baidu", "baidu_template_send", "alipay")
}

// BenchmarkWeChatSurfaceSend: WeChat's customer-service send (window check
// and spend) and updatable-message send (state machine).
func BenchmarkWeChatSurfaceSend(b *testing.B) {
	benchCases(b, "wechat_kefu", "wechat_updatable")
}

// BenchmarkAlipayV3Send: Alipay OpenAPI v3's send (RSA verify of every
// request, answers signed in headers).
func BenchmarkAlipayV3Send(b *testing.B) { benchCases(b, "alipay_v3") }

func benchCases(b *testing.B, names ...string) {
	for _, name := range names {
		c, ok := sendcases.ByName(name)
		if !ok {
			b.Fatalf("no send case %s", name)
		}
		b.Run(name, func(b *testing.B) { benchPlatformSend(b, c) })
	}
}

func benchPlatformSend(b *testing.B, sc sendcases.Case) {
	srv, err := mockserver.New(mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{sc.App()}}))
	if err != nil {
		b.Fatalf("new mock: %v", err)
	}
	mockHS := httptest.NewServer(srv.Handler())
	defer mockHS.Close()
	baseHS := httptest.NewServer(sc.Baseline)
	defer baseHS.Close()
	mockClient, baseClient := keepAliveClient(benchWorkers), keepAliveClient(benchWorkers)
	defer mockClient.CloseIdleConnections()
	defer baseClient.CloseIdleConnections()

	warm := 4 * benchWorkers
	before := mockCounts(b, srv.Handler())
	req, err := sc.Prepare(mockClient, mockHS.URL, warm+b.N)
	if err != nil {
		b.Fatalf("prepare: %v", err)
	}
	failures := &failureCount{c: sc}
	target := func(base string) benchload.Target {
		return benchload.Target{Method: http.MethodPost, URL: base + req.Path, Header: req.Header,
			NextRequest: req.Cycle(), Check: failures.check}
	}
	mock := benchload.Side{Client: mockClient, Target: target(mockHS.URL)}
	base := benchload.Side{Client: baseClient, Target: target(baseHS.URL)}

	ctx := context.Background()
	for _, s := range []benchload.Side{mock, base} {
		if _, err := benchload.Run(ctx, s.Client, s.Target, warm, benchWorkers); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
	}
	failures.fatalIfAny(b, "warm-up")

	b.ResetTimer()
	mockRes, baseRes, err := benchload.Compare(ctx, mock, base, b.N, benchTurn, benchWorkers)
	b.StopTimer()
	if err != nil {
		b.Fatalf("run: %v", err)
	}
	failures.fatalIfAny(b, "run")
	after := mockCounts(b, srv.Handler())
	if sc.Inbox && after.delivered-before.delivered != uint64(warm+b.N) {
		b.Fatalf("mock delivered %d messages, want %d", after.delivered-before.delivered, warm+b.N)
	}
	if !sc.Inbox && after.updates-before.updates != warm+b.N {
		b.Fatalf("activities took %d updates, want %d", after.updates-before.updates, warm+b.N)
	}

	mockP99, baseP99 := mockRes.Percentile(99), baseRes.Percentile(99)
	b.ReportMetric(float64(mockRes.Elapsed.Nanoseconds())/float64(mockRes.Requests), "ns/op")
	b.ReportMetric(mockRes.RPS(), "mock_req/s")
	b.ReportMetric(baseRes.RPS(), "base_req/s")
	b.ReportMetric(mockRes.RPS()/baseRes.RPS(), "ratio_rps")
	b.ReportMetric(micros(mockP99), "mock_p99_µs")
	b.ReportMetric(micros(baseP99), "base_p99_µs")
	b.ReportMetric(float64(mockP99)/float64(baseP99), "ratio_p99")
	b.ReportMetric(micros(mockRes.Percentile(50)), "mock_p50_µs")
	b.ReportMetric(micros(baseRes.Percentile(50)), "base_p50_µs")
	for k, v := range req.Extra {
		b.ReportMetric(v, k)
	}
}

// failureCount is the success test of both servers: it counts every answer
// that is not a success (and keeps the first) instead of stopping the run,
// so a failing benchmark says how many sends failed.
type failureCount struct {
	c     sendcases.Case
	n     atomic.Int64
	once  sync.Once
	first string
}

func (f *failureCount) check(status int, body []byte) error {
	if !f.c.Success(status, body) {
		f.n.Add(1)
		f.once.Do(func() { f.first = fmt.Sprintf("HTTP %d %.300s", status, body) })
	}
	return nil
}

func (f *failureCount) fatalIfAny(b *testing.B, stage string) {
	b.Helper()
	if n := f.n.Load(); n > 0 {
		b.Fatalf("%s: %d answers were not a success; first: %s", stage, n, f.first)
	}
}

// counts are what the mock did: messages delivered to the inbox, and
// updates of the bench app's updatable-message activities.
type counts struct {
	delivered uint64
	updates   int
}

func mockCounts(b *testing.B, h http.Handler) counts {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_mock/stats", nil))
	var st mockapi.Stats
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		b.Fatalf("stats: %v: %s", err, rec.Body)
	}
	c := counts{delivered: st.Delivered}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_mock/activities?platform=wechat&app_id="+sendcases.WeChatAppID, nil))
	if rec.Code != http.StatusOK {
		return c // no such app in this mock
	}
	var acts mockapi.Activities
	if err := json.Unmarshal(rec.Body.Bytes(), &acts); err != nil {
		b.Fatalf("activities: %v: %s", err, rec.Body)
	}
	for _, a := range acts.Activities {
		c.updates += a.Updates
	}
	return c
}

func alipayKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	k, err := sendcases.AlipayKey()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func alipaySign(tb testing.TB, k *rsa.PrivateKey, p map[string]string) string {
	tb.Helper()
	s, err := sendcases.AlipaySign(k, p)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
