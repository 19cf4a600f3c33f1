package mockserver_test

// BenchmarkHandler drives each platform's send handler in-process — the
// mock's http.Handler called directly, no sockets, no net/http server — next
// to its plain handler (internal/sendcases), so a CPU profile or -benchmem
// shows the mock's own cost per send and nothing else:
//
//	go test -run '^$' -bench 'Handler/' -benchtime 20000x -benchmem -cpuprofile cpu.out ./mockserver/
//
// Each sub-benchmark is named <case>/mock or <case>/plain; every mock
// answer must be the platform's success. With -cpu 1,2 it runs the sends
// from one goroutine per P (b.RunParallel), which shows lock contention on
// the mock's shared state.

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/minipush/minipush/internal/sendcases"
	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// handlerBenchSends is how many sends each case's requests are prepared
// for; maxHandlerSends is how many one run of a side may make.
const (
	handlerBenchSends = 50_000
	maxHandlerSends   = 30_000
)

func BenchmarkHandler(b *testing.B) {
	for _, sc := range sendcases.All() {
		b.Run(sc.Name, func(b *testing.B) {
			srv, err := mockserver.New(mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{sc.App()}}))
			if err != nil {
				b.Fatalf("new mock: %v", err)
			}
			hs := httptest.NewServer(srv.Handler())
			defer hs.Close()
			client := keepAliveClient(1)
			defer client.CloseIdleConnections()
			// Enough distinct bodies for the mock's sends (a platform that
			// refuses a repeated body, e.g. Baidu's subscribe ids, must not
			// see one twice; Douyin's 32,768 users take one message a
			// second each): run with -benchtime up to 30000x, -count 1.
			req, err := sc.Prepare(client, hs.URL, handlerBenchSends)
			if err != nil {
				b.Fatalf("prepare: %v", err)
			}
			// One sequence for every run of a side: the b.N=1 run and the
			// measured one must not send the same bodies.
			cycles := map[string]func() ([]byte, http.Header){"mock": req.Cycle(), "plain": req.Cycle()}
			for _, side := range []struct {
				name string
				h    http.Handler
			}{{"mock", srv.Handler()}, {"plain", sc.Baseline}} {
				b.Run(side.name, func(b *testing.B) {
					if b.N > maxHandlerSends {
						b.Skipf("b.N %d: at most %d sends a case", b.N, maxHandlerSends)
					}
					next := cycles[side.name]
					b.ReportAllocs()
					b.RunParallel(func(pb *testing.PB) {
						w := &discardWriter{h: http.Header{}}
						for pb.Next() {
							body, signed := next()
							r := httptest.NewRequest(http.MethodPost, req.Path, bytes.NewReader(body))
							for k, v := range req.Header {
								r.Header[k] = v
							}
							for k, v := range signed {
								r.Header[k] = v
							}
							w.reset()
							side.h.ServeHTTP(w, r)
							if side.name == "mock" && !sc.Success(w.status, w.body.Bytes()) {
								b.Errorf("answer HTTP %d %.300s", w.status, w.body.Bytes())
								return
							}
						}
					})
				})
			}
		})
	}
}

// discardWriter is the least a ResponseWriter does: it keeps the status
// and the answer for the success test.
type discardWriter struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (w *discardWriter) reset() {
	clear(w.h)
	w.status = 0
	w.body.Reset()
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}
