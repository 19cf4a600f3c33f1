package sqlite_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/perfprobe"
	"github.com/minipush/minipush/sender/internal/bulk"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// TestRetentionSoak (opt-in, issue 15): a store taking a steady stream of
// messages — each accepted, claimed and recorded delivered, as the sender
// does — while the bulk runner deletes those past a short retention. It
// reports, every 10 s, the file's size (database + WAL), its free pages
// and the messages kept, and the latencies of the accepts and outcome
// writes before retention starts deleting and while it does: the file
// must level off once deletes match inserts (free pages reused), and the
// writes must not stall behind the deletes (bulk lane).
//
//	MINIPUSH_SOAK=10m go test -run '^TestRetentionSoak$' -v -timeout 1h ./sender/internal/storage/sqlite/
//
// MINIPUSH_SOAK_RATE sets the messages per second (default 1000),
// MINIPUSH_SOAK_KEEP the retention (default 1m).
func TestRetentionSoak(t *testing.T) {
	dur, _ := time.ParseDuration(os.Getenv("MINIPUSH_SOAK"))
	if dur <= 0 {
		t.Skip("opt-in: MINIPUSH_SOAK=10m go test -run '^TestRetentionSoak$' -v ./sender/internal/storage/sqlite/ (docs/performance.md)")
	}
	rate := 1000
	if v := os.Getenv("MINIPUSH_SOAK_RATE"); v != "" {
		if _, err := fmt.Sscan(v, &rate); err != nil {
			t.Fatal(err)
		}
	}
	keep := time.Minute
	if v := os.Getenv("MINIPUSH_SOAK_KEEP"); v != "" {
		var err error
		if keep, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "soak.db")
	s := openStore(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runner := bulk.New(s, slog.New(slog.DiscardHandler), bulk.WithSweepEvery(5*time.Second),
		bulk.WithRetention(map[message.Status]time.Duration{message.StatusDelivered: keep}))
	var wg, work sync.WaitGroup // the runner; the writers
	wg.Go(func() { _ = runner.Run(ctx) })

	// Latencies before retention deletes anything, and after.
	phase := func(t0 time.Time) int {
		if time.Since(t0) < keep+5*time.Second {
			return 0
		}
		return 1
	}
	accept := [2]*perfprobe.Latencies{perfprobe.NewLatencies(), perfprobe.NewLatencies()}
	outcome := [2]*perfprobe.Latencies{perfprobe.NewLatencies(), perfprobe.NewLatencies()}
	start := time.Now()
	end := start.Add(dur)
	errs := make(chan error, 4)
	// report passes on a writer's error without ever blocking: calls
	// failing together (at most one per writer goroutine in flight)
	// must not leave their goroutines stuck on a full channel.
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}

	// Accepts: rate a second, in ticks of 10 ms, each message its own call.
	work.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		per, i := max(1, rate/100), 0
		for now := range tick.C {
			if now.After(end) || ctx.Err() != nil {
				return
			}
			var aw sync.WaitGroup
			for range per {
				i++
				m := message.Message{App: "soak", Platform: "wechat", To: fmt.Sprintf("o_soak_%07d", i%1000),
					TemplateID: "tmpl", Data: map[string]string{"thing1": "咖啡豆已发货", "character_string3": fmt.Sprint(i)},
					Page: "pages/order/detail?id=" + fmt.Sprint(i)}
				aw.Go(func() {
					t0 := time.Now()
					if _, _, err := s.Enqueue(ctx, []message.Message{m}); err != nil {
						report(err)
						return
					}
					accept[phase(start)].Record(time.Since(t0))
				})
			}
			aw.Wait()
		}
	})
	// The dispatcher's part: claim what is due, record each delivered.
	work.Go(func() {
		for time.Now().Before(end.Add(5*time.Second)) && ctx.Err() == nil {
			ms, err := s.Claim(ctx, time.Now(), 256, 30*time.Second)
			if err != nil {
				report(err)
				return
			}
			if len(ms) == 0 {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			var rw sync.WaitGroup
			for _, m := range ms {
				rw.Go(func() {
					t0 := time.Now()
					a := &message.Attempt{At: time.Now(), Outcome: message.OutcomeDelivered, Code: "0", Message: "ok"}
					if err := s.Record(ctx, m.ID, m.Lease.Fence, a, storage.Update{Status: message.StatusDelivered, PlatformMsgID: "pm_" + m.ID}); err != nil {
						report(err)
						return
					}
					outcome[phase(start)].Record(time.Since(t0))
				})
			}
			rw.Wait()
		}
	})

	size := func() (db, wal int64) {
		if st, err := os.Stat(path); err == nil {
			db = st.Size()
		}
		if st, err := os.Stat(path + "-wal"); err == nil {
			wal = st.Size()
		}
		return db, wal
	}
	var maxAfter, atLevel int64
	for tick := time.NewTicker(10 * time.Second); time.Now().Before(end); {
		select {
		case err := <-errs:
			t.Fatal(err)
		case <-tick.C:
		}
		db, wal := size()
		c, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		kept := 0
		for _, n := range c {
			kept += n
		}
		t.Logf("%6.0fs  database %7.1f MiB  WAL %6.1f MiB  messages kept %8d  (load %s)", time.Since(start).Seconds(),
			perfprobe.MiB(db), perfprobe.MiB(wal), kept, loadAvgString())
		if time.Since(start) > 2*keep {
			if atLevel == 0 {
				atLevel = db
			}
			maxAfter = max(maxAfter, db)
		}
	}
	// The writers stop by themselves (accepts at the end, outcomes 5 s
	// later); the runner then. Cancelling first failed the calls in
	// flight and, with a blocking error channel, hung the test.
	work.Wait()
	cancel()
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	for i, name := range []string{"before retention deletes", "while retention deletes"} {
		t.Logf("%s: accept p50 %.2f p99 %.2f max %.2f ms (%d); outcome p50 %.2f p99 %.2f max %.2f ms (%d)", name,
			perfprobe.MS(accept[i].Quantile(50)), perfprobe.MS(accept[i].Quantile(99)), perfprobe.MS(accept[i].Max()), accept[i].Count(),
			perfprobe.MS(outcome[i].Quantile(50)), perfprobe.MS(outcome[i].Quantile(99)), perfprobe.MS(outcome[i].Max()), outcome[i].Count())
	}
	if atLevel > 0 {
		t.Logf("database after 2× the retention: %.1f MiB, largest later %.1f MiB (growth %.1f%%)",
			perfprobe.MiB(atLevel), perfprobe.MiB(maxAfter), 100*float64(maxAfter-atLevel)/float64(atLevel))
	}
}

func loadAvgString() string {
	l, _ := perfprobe.ReadLoadAvg()
	return l.String()
}
