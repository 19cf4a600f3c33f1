package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
)

// benchCallers is how many goroutines per GOMAXPROCS call the store at
// once, as concurrent HTTP handlers would.
const benchCallers = 64

func benchStore(b *testing.B, opts ...sqlite.Option) *sqlite.Store {
	return openStore(b, filepath.Join(b.TempDir(), "minipush.db"), opts...)
}

func benchMsg(i int64) message.Message {
	return message.Message{
		App: "wx-app-1", Platform: "wechat", To: fmt.Sprintf("openid-%012d", i), TemplateID: "tpl-order-shipped",
		Data: map[string]string{"thing1": "Your order has shipped", "character_string2": "SF1234567890", "time3": "2026-05-01 10:00"},
		Page: "pages/order/detail?id=42", IdempotencyKey: fmt.Sprintf("order-%d", i),
	}
}

func perSecond(b *testing.B, n int64, name string) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), name)
}

// cpuTime is the process's CPU time (user + system). On a shared machine
// the wall-clock rates depend on the neighbours; CPU per message does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func cpuPerMsg(b *testing.B, since time.Duration, n int64) {
	b.ReportMetric(float64((cpuTime()-since).Microseconds())/float64(n), "cpu-µs/msg")
}

// BenchmarkEnqueueParallel: concurrent callers, one message per call, each
// waiting for its commit (group commit makes them share transactions).
func BenchmarkEnqueueParallel(b *testing.B) {
	for _, v := range []struct {
		name string
		opts []sqlite.Option
	}{{"normal", nil}, {"full-sync", []sqlite.Option{sqlite.WithSynchronousFull()}}} {
		b.Run(v.name, func(b *testing.B) {
			s := benchStore(b, v.opts...)
			ctx := context.Background()
			var seq atomic.Int64
			b.SetParallelism(benchCallers)
			b.ResetTimer()
			cpu := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, _, err := s.Enqueue(ctx, []message.Message{benchMsg(seq.Add(1))}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			perSecond(b, int64(b.N), "msg/s")
			cpuPerMsg(b, cpu, int64(b.N))
		})
	}
}

// dispatch plays the dispatcher: claim a batch, record each message from
// a pool of workers (one Record call per message), until stop is closed or
// nothing is due. It returns how many messages it recorded.
func dispatch(ctx context.Context, s storage.Store, stop <-chan struct{}, workers int) (int64, error) {
	var (
		done atomic.Int64
		jobs = make(chan message.Message)
		errs = make(chan error, workers)
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for m := range jobs {
				a := message.Attempt{At: time.Now(), Outcome: message.OutcomeDelivered, Code: "0", LatencyMS: 20}
				if err := s.Record(ctx, m.ID, m.Lease.Fence, &a, storage.Update{Status: message.StatusDelivered, PlatformMsgID: "pm-" + m.ID}); err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
		})
	}
	var err error
loop:
	for {
		select {
		case <-stop:
			break loop
		default:
		}
		var msgs []message.Message
		if msgs, err = s.Claim(ctx, time.Now(), 200, time.Minute); err != nil || len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			jobs <- m
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case e := <-errs:
		err = e
	default:
	}
	return done.Load(), err
}

func fill(b *testing.B, s storage.Store, n int) {
	b.Helper()
	ctx := context.Background()
	const chunk = 1000
	for i := 0; i < n; i += chunk {
		msgs := make([]message.Message, 0, chunk)
		for j := i; j < min(i+chunk, n); j++ {
			m := benchMsg(int64(j))
			m.IdempotencyKey = ""
			m.NextAttemptAt = time.Now().Add(-time.Minute)
			msgs = append(msgs, m)
		}
		if _, _, err := s.Enqueue(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimRecord: delivery bookkeeping alone — Claim batches of 200
// and one Record (attempt + new state) per message from 64 workers.
func BenchmarkClaimRecord(b *testing.B) {
	s := benchStore(b)
	fill(b, s, b.N)
	b.ResetTimer()
	cpu := cpuTime()
	n, err := dispatch(context.Background(), s, nil, benchCallers*runtime.GOMAXPROCS(0))
	if err != nil {
		b.Fatal(err)
	}
	if n != int64(b.N) {
		b.Fatalf("recorded %d, want %d", n, b.N)
	}
	perSecond(b, n, "msg/s")
	cpuPerMsg(b, cpu, n)
}

// BenchmarkClaimRecordWebhooks is BenchmarkClaimRecord with every message
// in the webhook scope: each delivered outcome also writes its outbox row
// (docs/webhooks.md). Against BenchmarkClaimRecord it is the cost of the
// webhook per message; BenchmarkClaimRecord itself, against a build
// without webhooks, is what the trigger's test costs the others.
func BenchmarkClaimRecordWebhooks(b *testing.B) {
	s := benchStore(b)
	if err := s.SetWebhookScope(context.Background(), storage.WebhookScope{Apps: []string{benchMsg(0).App}}); err != nil {
		b.Fatal(err)
	}
	fill(b, s, b.N)
	b.ResetTimer()
	cpu := cpuTime()
	n, err := dispatch(context.Background(), s, nil, benchCallers*runtime.GOMAXPROCS(0))
	if err != nil {
		b.Fatal(err)
	}
	if n != int64(b.N) {
		b.Fatalf("recorded %d, want %d", n, b.N)
	}
	perSecond(b, n, "msg/s")
	cpuPerMsg(b, cpu, n)
	if c, err := s.WebhookCounts(context.Background()); err != nil || c[message.WebhookPending] != b.N {
		b.Fatalf("outbox holds %v, %v; want %d pending", c, err, b.N)
	}
}

// BenchmarkAcceptWhileDelivering is the production mix: parallel callers
// enqueue one message each while a dispatcher claims and records a
// backlog. It reports both rates.
func BenchmarkAcceptWhileDelivering(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	fill(b, s, 200_000)
	var seq atomic.Int64
	seq.Store(1 << 40)
	stop := make(chan struct{})
	var (
		delivered int64
		derr      error
		wg        sync.WaitGroup
	)
	b.SetParallelism(benchCallers)
	b.ResetTimer()
	cpu := cpuTime()
	wg.Go(func() { delivered, derr = dispatch(ctx, s, stop, benchCallers*runtime.GOMAXPROCS(0)) })
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.Enqueue(ctx, []message.Message{benchMsg(seq.Add(1))}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	close(stop)
	wg.Wait()
	if derr != nil {
		b.Fatal(derr)
	}
	perSecond(b, int64(b.N), "accepted/s")
	perSecond(b, delivered, "recorded/s")
	cpuPerMsg(b, cpu, int64(b.N)+delivered)
}

// BenchmarkCreateBroadcast100k: one broadcast fanned out to 100,000
// messages in one transaction. Each iteration adds 100k rows to the same
// database, so later ones insert into bigger indexes.
func BenchmarkCreateBroadcast100k(b *testing.B) {
	const n = 100_000
	s := benchStore(b)
	ctx := context.Background()
	msgs := make([]message.Message, n)
	b.StopTimer()
	var cpu time.Duration
	for i := range b.N {
		for j := range msgs {
			msgs[j] = benchMsg(int64(j))
			msgs[j].IdempotencyKey = ""
			msgs[j].ID = fmt.Sprintf("b%d-%06d", i, j)
		}
		b.StartTimer()
		c := cpuTime()
		_, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: fmt.Sprint("b", i), App: "wx-app-1", TemplateID: "tpl"}, msgs)
		cpu += cpuTime() - c
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
	}
	perSecond(b, int64(b.N)*n, "msg/s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/broadcast")
}
