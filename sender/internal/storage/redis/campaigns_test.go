package redis_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/redistest"
	"github.com/minipush/minipush/sender/internal/campaign"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage/redis"
)

// BenchmarkFanOutCampaign: a group broadcast to 20,000 members fanned out
// in steps of 2,000, without campaign rules and with an app's dedup window
// and a day cap applied to each member in the fanout script
// (docs/campaigns.md, "At a group's fan-out"). Each iteration is a new
// broadcast with its own dedup key, so every member is admitted.
func BenchmarkFanOutCampaign(b *testing.B) {
	const n, chunk = 20_000, 2000
	now := time.Date(2030, 1, 2, 4, 0, 0, 0, time.UTC)
	rules, err := campaign.New(&config.Campaigns{Dedup: &config.Dedup{Window: 24 * time.Hour},
		FrequencyCaps: []config.FrequencyCap{{Period: config.PeriodDay, Limit: 1_000_000}}})
	if err != nil {
		b.Fatal(err)
	}
	srv := redistest.Start(b)
	for _, mode := range []string{"none", "rules"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			s := open(b, srv, redis.Config{})
			if mode == "rules" {
				s.SetFanOutAdmit(func(bc message.Broadcast, m *message.Message) { rules.FanOut(bc, m, now) }, nil)
			}
			members := func(yield func(string, error) bool) {
				for i := range n {
					if !yield(fmt.Sprintf("openid-%012d", i), nil) {
						return
					}
				}
			}
			if _, _, err := s.PutGroup(ctx, "wx-app-1", "all", members, "", nil); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var cpu time.Duration
			for i := range b.N {
				bc := message.Broadcast{ID: fmt.Sprint("bc", i), App: "wx-app-1", Platform: "wechat", Group: "all",
					TemplateID: "tpl", Data: map[string]string{"thing1": "sale"}, CreatedAt: now,
					Dedup: &message.BroadcastDedup{Key: fmt.Sprint("k", i)}}
				if _, _, err := s.CreateBroadcast(ctx, bc, nil); err != nil {
					b.Fatal(err)
				}
				c := cpuTime()
				for {
					_, more, err := s.FanOut(ctx, chunk)
					if err != nil {
						b.Fatal(err)
					}
					if !more {
						break
					}
				}
				cpu += cpuTime() - c
			}
			b.ReportMetric(float64(int64(b.N)*n)/b.Elapsed().Seconds(), "members/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(int64(b.N)*n), "sender-cpu-µs/member")
		})
	}
}

// cpuTime is this process's CPU time (the sender's side; Redis runs in
// its own process).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
