package sender_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/minipush/minipush/sender"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
	"github.com/minipush/minipush/sender/internal/storage/sqlite/sqlitetest"
)

// BenchmarkProbes is the cost of the anonymous probes — a /metrics scrape
// and /readyz — on a database of 0 and of 1,000,000 messages. Issue 9
// found a scrape counting every row (190 ms at a million), and /readyz
// doing the same. Now /metrics reads the six counts kept as messages
// change and /readyz reads memory: both sizes should cost the same.
//
//	go test -run '^$' -bench Probes -benchtime 200x ./sender/
func BenchmarkProbes(b *testing.B) {
	for _, rows := range []int{0, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			ctx := context.Background()
			cfg := testConfig(b, "http://127.0.0.1:1") // no platform is called
			s, err := sqlite.Open(ctx, cfg.Storage.Path)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			if rows > 0 {
				sqlitetest.Preload(b, cfg.Storage.Path, rows)
			}
			svc, err := sender.New(ctx, cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- svc.Run(runCtx, ln) }()
			b.Cleanup(func() {
				cancel()
				<-done
				_ = svc.Close()
			})
			h := svc.Handler()
			for _, path := range []string{"/metrics", "/readyz"} {
				b.Run(path, func(b *testing.B) {
					req := httptest.NewRequest(http.MethodGet, path, nil)
					for b.Loop() {
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK && !(path == "/readyz" && rec.Code == http.StatusServiceUnavailable) {
							b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
						}
					}
				})
			}
		})
	}
}
