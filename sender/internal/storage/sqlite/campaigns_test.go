package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/campaign"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
	"github.com/minipush/minipush/sender/internal/storage/storagetest"
)

// TestCampaignAcrossOpenings: two stores on one file (two sender
// processes) share dedup entries and counts, and concurrent admissions
// through both accept exactly one message of a dedup key.
func TestCampaignAcrossOpenings(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "minipush.db")
	a, b := openStore(t, path), openStore(t, path)
	storagetest.CampaignAcrossStores(t, a, b)
	storagetest.CampaignDedupConcurrent(t, a, b)
}

// TestCampaignAcrossRestart: a dedup entry and a count written before a
// restart hold after it.
func TestCampaignAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "minipush.db")
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	admitted := func(to string) message.Message {
		m := testMsg("app1", to)
		m.Admission = &message.Admission{At: now, DedupKey: to + "|tpl|", DedupUntil: now.Add(time.Hour),
			Slots: []message.Slot{{Due: now, Counters: []message.Counter{{Key: to + "|d", Limit: 1, Until: now.Add(time.Hour)}}}}}
		return m
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := s.Enqueue(ctx, []message.Message{admitted("u1")})
	if err != nil || first[0].Status != message.StatusQueued {
		t.Fatalf("first: %v, %v", first, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, path)
	out, _, err := s2.Enqueue(ctx, []message.Message{admitted("u1")})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Reason != reason.Duplicate || out[0].DuplicateOf != first[0].ID {
		t.Errorf("after restart: status %s reason %q duplicate_of %q, want a duplicate of %s", out[0].Status, out[0].Reason, out[0].DuplicateOf, first[0].ID)
	}
	capped := admitted("u1")
	capped.Admission.DedupKey = ""
	out, _, err = s2.Enqueue(ctx, []message.Message{capped})
	if err != nil || out[0].Reason != reason.FrequencyCap {
		t.Errorf("cap after restart: %v reason %q, want frequency_cap", err, out[0].Reason)
	}
}

// BenchmarkFanOutCampaign: a group broadcast to 20,000 members fanned out
// in steps of 2,000, without campaign rules (the multi-row INSERTs) and
// with an app's dedup window and a day cap applied to each member
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
	for _, mode := range []string{"none", "rules"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			s := benchStore(b)
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
			perSecond(b, int64(b.N)*n, "members/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(int64(b.N)*n), "cpu-µs/member")
		})
	}
}
