package mockserver_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// BenchmarkSendWithHangingPushReceiver measures what a developer's server
// that never answers costs the platform API: subscribe/send on a mock whose
// app pushes to such a server (every send queues a sent event that hangs
// until the push timeout, the queue overflows and drops the oldest) next to
// the same send on a mock without push settings. The rounds alternate so
// both see the same machine load. Target (reported, not asserted): the
// median and p99 within 1.5× of the mock without pushes.
func BenchmarkSendWithHangingPushReceiver(b *testing.B) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(r.URL.Query().Get("echostr")))
			return
		}
		// Read the body first: only then does net/http notice a closed
		// connection and end the request's context.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer func() {
		hang.CloseClientConnections()
		hang.Close()
	}()
	seedWith := benchSeed()
	seedWith.Apps[0].Push = &mockapi.PushConfig{URL: hang.URL, Token: "benchToken", Format: "xml", Mode: "safe",
		EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}
	type side struct {
		name  string
		url   string
		token string
		lat   []time.Duration
	}
	var sides []*side
	for _, s := range []struct {
		name string
		seed mockapi.Seed
	}{{"no-push", benchSeed()}, {"hanging-receiver", seedWith}} {
		srv, err := mockserver.New(mockserver.WithSeed(s.seed), mockserver.WithPushTimeout(time.Minute))
		if err != nil {
			b.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		defer func() {
			hs.CloseClientConnections()
			hs.Close()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			srv.Shutdown(ctx)
		}()
		c := keepAliveClient(8)
		sides = append(sides, &side{name: s.name, url: hs.URL, token: fetchToken(b, c, hs.URL)})
	}
	const workers, turn = 8, 500
	client := keepAliveClient(workers)
	send := func(s *side, n int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		per := n / workers
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]time.Duration, 0, per)
				for i := 0; i < per; i++ {
					start := time.Now()
					resp, err := client.Post(s.url+"/cgi-bin/message/subscribe/send?access_token="+s.token, "application/json", bytes.NewReader(benchBody))
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
					local = append(local, time.Since(start))
				}
				mu.Lock()
				s.lat = append(s.lat, local...)
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	b.ResetTimer()
	for done := 0; done < b.N; done += turn {
		for _, s := range sides {
			send(s, turn)
		}
	}
	b.StopTimer()
	q := func(s *side, p float64) float64 {
		sort.Slice(s.lat, func(i, j int) bool { return s.lat[i] < s.lat[j] })
		return micros(s.lat[int(p*float64(len(s.lat)-1))])
	}
	none, hanging := sides[0], sides[1]
	b.ReportMetric(q(none, 0.5), "no-push-p50-µs")
	b.ReportMetric(q(hanging, 0.5), "hanging-p50-µs")
	b.ReportMetric(q(hanging, 0.5)/q(none, 0.5), "p50-ratio")
	b.ReportMetric(q(none, 0.99), "no-push-p99-µs")
	b.ReportMetric(q(hanging, 0.99), "hanging-p99-µs")
	b.ReportMetric(q(hanging, 0.99)/q(none, 0.99), "p99-ratio")
}
