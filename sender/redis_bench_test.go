package sender_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/perfprobe"
	"github.com/minipush/minipush/internal/redistest"
	"github.com/minipush/minipush/sender/internal/config"
)

// BenchmarkStorageDrivers compares one sender on Redis with one on SQLite,
// and one to three instances on one Redis (docs/redis.md#performance):
//
//   - accept/<driver>: 64 clients POST b.N messages to a sender whose
//     dispatcher does not run: msg/s, CPU per message;
//   - deliver/<driver>: the same through the whole service to the
//     in-process mock, until every message is delivered: delivered/s, CPU
//     per message, and on Redis round trips per delivered message;
//   - instances=N: N services on one Redis, the clients spread over them.
//
// CPU counts this process (the senders, the mock, the clients) and, on
// Redis, the redis-server process (AOF on, appendfsync everysec).
//
//	go test -run '^$' -bench StorageDrivers -benchtime 20000x ./sender/
func BenchmarkStorageDrivers(b *testing.B) {
	for _, driver := range []string{config.DriverSQLite, config.DriverRedis} {
		b.Run("accept/"+driver, func(b *testing.B) { benchInstances(b, driver, 1, false) })
		b.Run("deliver/"+driver, func(b *testing.B) { benchInstances(b, driver, 1, true) })
	}
	for n := 1; n <= 3; n++ {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) { benchInstances(b, config.DriverRedis, n, true) })
	}
}

func benchInstances(b *testing.B, driver string, n int, deliver bool) {
	mock := startPerfMock(b, perfUsers, perfClients+b.N)
	var srv *redistest.Server
	if driver == config.DriverRedis {
		srv = redistest.Start(b, redistest.WithAOF("everysec"))
	}
	prefix := newPrefix()
	var (
		bases []string
		svcs  []*svc
	)
	for range n {
		cfg := perfConfig(b, mock.URL, nil)
		cfg.APIRate.PerSecond = 0 // the clients are the benchmark, not a runaway caller
		if srv != nil {
			cfg.Storage = config.Storage{Driver: config.DriverRedis, URL: srv.URL(), Prefix: prefix}
		}
		if !deliver {
			bases = append(bases, startPaused(b, cfg))
			continue
		}
		s := startService(b, mock, cfg, nil)
		svcs, bases = append(svcs, s), append(bases, s.URL)
	}
	gens := make([]*loadGen, n)
	for i, base := range bases {
		gens[i] = newLoadGen(base, perfClients/n)
		defer gens[i].close()
	}
	// Warm up: connections, the access token, the scripts or statements.
	for _, g := range gens {
		if _, err := g.burst(0, perfClients, perfClients/n, perfUsers, nil); err != nil {
			b.Fatal(err)
		}
	}
	warm := perfClients * n
	if deliver {
		if _, err := waitDelivered(mock, svcs[0].Svc.Counts, warm, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	pid := 0
	if srv != nil {
		pid = srv.Pid()
	}
	var trips0 uint64
	for _, s := range svcs {
		t, _ := s.Svc.StorageRoundTrips()
		trips0 += t
	}
	load := loadAvg()
	win := startCPU(pid)
	cpuSelf := perfprobe.SelfCPU()
	cpuRedis, _ := perfprobe.ProcessCPU(pid)
	b.ResetTimer()
	start := time.Now()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		firstEr error
	)
	for i, g := range gens {
		share := b.N / n
		if i == n-1 {
			share = b.N - share*(n-1)
		}
		wg.Go(func() {
			if _, err := g.burst(warm+i*(b.N/n), share, perfClients/n, perfUsers, nil); err != nil {
				mu.Lock()
				firstEr = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	accepted := time.Since(start)
	if firstEr != nil {
		b.Fatal(firstEr)
	}
	end := start.Add(accepted)
	if deliver {
		done, err := waitDelivered(mock, svcs[0].Svc.Counts, warm+b.N, 10*time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		end = done
	}
	b.StopTimer()
	self, child, others := win.cores()
	cpu := perfprobe.SelfCPU() - cpuSelf
	if pid != 0 {
		r, _ := perfprobe.ProcessCPU(pid)
		cpu += r - cpuRedis
	}
	b.ReportMetric(float64(b.N)/accepted.Seconds(), "accepted/s")
	if deliver {
		b.ReportMetric(float64(b.N)/end.Sub(start).Seconds(), "delivered/s")
		var trips uint64
		for _, s := range svcs {
			t, _ := s.Svc.StorageRoundTrips()
			trips += t
		}
		if srv != nil {
			b.ReportMetric(float64(trips-trips0)/float64(b.N), "trips/msg")
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
	b.ReportMetric(self, "cores")
	if pid != 0 {
		b.ReportMetric(child, "redis-cores")
	}
	b.ReportMetric(others, "others-cores")
	b.ReportMetric(load[0], "load1")
}
