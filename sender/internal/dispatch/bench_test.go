package dispatch_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/perfprobe"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/dispatch"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/ratelimit"
)

// BenchmarkDispatch is the dispatcher's own CPU per message: a store that
// hands out b.N messages from memory and a platform answering after 100 µs,
// with the default workers and claim batch and a blind consent gate (an app
// without events, as in production). The sender's store and platform calls
// are measured elsewhere (storage/sqlite BenchmarkClaimRecord, benchcompare).
//
//	go test -run '^$' -bench Dispatch -benchtime 20000x ./sender/internal/dispatch/
func BenchmarkDispatch(b *testing.B) {
	cfg := delivery()
	d := config.Defaults().Delivery
	cfg.Workers, cfg.Batch, cfg.PollInterval = d.Workers, d.Batch, d.PollInterval
	cfg.Lease, cfg.SendTimeout = d.Lease, d.SendTimeout
	st := &store{queue: messages(b.N)}
	c := &client{send: func(context.Context, platform.Send) error { time.Sleep(100 * time.Microsecond); return nil }}
	apps := map[string]*dispatch.App{"app": {Name: "app", Platform: "wechat", Client: c, Shaper: ratelimit.New(0, 0, 0),
		Consent: consent.NewGate("app", consent.ModeObserve, newLedger(), nil, consent.WithoutEvents())}}
	cpu := perfprobe.SelfCPU()
	b.ResetTimer()
	stop := run(dispatch.New(st, apps, cfg, slog.New(slog.DiscardHandler)))
	for {
		if _, tries := st.counts(); tries >= b.N {
			break
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	used := perfprobe.SelfCPU() - cpu
	if err := stop(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(used.Nanoseconds())/1000/float64(b.N), "cpu-µs/msg")
}
