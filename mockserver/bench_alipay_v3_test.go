package mockserver_test

// BenchmarkAlipayV3Send: Alipay OpenAPI v3's template-message send next to
// a plain handler of the same request, as BenchmarkPlatformSend does for
// the gateway (same machine, real loopback sockets, alternating turns).
// The requests are signed as alipay-sdk-java-all v3 AlipayConfigUtil.sign
// does — "ALIPAY-SHA256withRSA app_id=…,nonce=…,timestamp=…,sign=…" over
// "<authString>\nPOST\n<path>\n<body>\n" — ahead of the run (alipayPool of
// them, one per user, in rotation); the mock verifies every one (RSA-2048)
// and signs its answers in headers. The baseline decodes the JSON body and
// answers {} with headers of the same size. Target (reported, not
// asserted): ratio_rps ≥ 0.7; the RSA verification of each request is
// most of the gap (docs/performance.md).

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/internal/benchload"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/seed"
)

const alipayV3SendPath = "/v3/alipay/open/app/mini/templatemessage/send"

func BenchmarkAlipayV3Send(b *testing.B) {
	sc := alipayCase() // the gateway case's app: the demo app, alipayPool users with long-term grants
	srv, err := mockserver.New(mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{sc.app()}}))
	if err != nil {
		b.Fatalf("new mock: %v", err)
	}
	mockHS := httptest.NewServer(srv.Handler())
	defer mockHS.Close()
	baseHS := httptest.NewServer(alipayV3Baseline())
	defer baseHS.Close()
	mockClient, baseClient := keepAliveClient(benchWorkers), keepAliveClient(benchWorkers)
	defer mockClient.CloseIdleConnections()
	defer baseClient.CloseIdleConnections()

	key := alipayKey(b)
	data := `{"keyword1":{"value":"SO20240601001"},"keyword2":{"value":"已发货"},"keyword3":{"value":"2024-06-01 12:00"}}`
	type signed struct {
		body   []byte
		header http.Header
	}
	start := time.Now()
	pool := make([]signed, alipayPool)
	for i := range pool {
		body, err := json.Marshal(map[string]string{"to_user_id": fmt.Sprintf("2088%012d", 900_000_000_000+i),
			"user_template_id": seed.DemoAlipayTemplate, "page": "pages/order/detail?id=42", "data": data})
		if err != nil {
			b.Fatal(err)
		}
		nonce := make([]byte, 16)
		_, _ = rand.Read(nonce)
		auth := "app_id=" + seed.DemoAlipayAppID + ",nonce=" + hex.EncodeToString(nonce) +
			",timestamp=" + strconv.FormatInt(time.Now().UnixMilli(), 10)
		d := sha256.Sum256([]byte(auth + "\nPOST\n" + alipayV3SendPath + "\n" + string(body) + "\n"))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
		if err != nil {
			b.Fatal(err)
		}
		pool[i] = signed{body, http.Header{"Authorization": {"ALIPAY-SHA256withRSA " + auth + ",sign=" + base64.StdEncoding.EncodeToString(sig)}}}
	}
	signPerReq := time.Since(start) / alipayPool
	var next atomic.Uint64
	nextRequest := func() ([]byte, http.Header) {
		s := pool[(next.Add(1)-1)%alipayPool]
		return s.body, s.header
	}
	failures := &failureCount{ok: "{}", exact: true}
	target := func(base string) benchload.Target {
		return benchload.Target{Method: http.MethodPost, URL: base + alipayV3SendPath,
			Header:      http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}},
			NextRequest: nextRequest, Check: failures.check}
	}
	mock := benchload.Side{Client: mockClient, Target: target(mockHS.URL)}
	base := benchload.Side{Client: baseClient, Target: target(baseHS.URL)}
	ctx := context.Background()
	warm := 4 * benchWorkers
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
	checkDelivered(b, srv.Handler(), warm+b.N)

	mockP99, baseP99 := mockRes.Percentile(99), baseRes.Percentile(99)
	b.ReportMetric(float64(mockRes.Elapsed.Nanoseconds())/float64(mockRes.Requests), "ns/op")
	b.ReportMetric(mockRes.RPS(), "mock_req/s")
	b.ReportMetric(baseRes.RPS(), "base_req/s")
	b.ReportMetric(mockRes.RPS()/baseRes.RPS(), "ratio_rps")
	b.ReportMetric(float64(mockP99)/float64(baseP99), "ratio_p99")
	b.ReportMetric(micros(mockRes.Percentile(50)), "mock_p50_µs")
	b.ReportMetric(micros(baseRes.Percentile(50)), "base_p50_µs")
	b.ReportMetric(micros(signPerReq), "client_sign_µs")
}

// alipayV3Baseline decodes the JSON body and answers {} with headers as
// long as the mock's signed ones.
func alipayV3Baseline() http.Handler {
	fakeSig := strings.Repeat("A", 342) + "=="
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json;charset=utf-8")
		h.Set("alipay-trace-id", "0123456789abcdef0123456789abcdef")
		h.Set("alipay-timestamp", "1717214400000")
		h.Set("alipay-nonce", "01234567-89ab-4cde-8f01-23456789abcd")
		h.Set("alipay-signature", fakeSig)
		_, _ = w.Write([]byte("{}"))
	})
}
