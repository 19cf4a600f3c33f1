package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// BenchmarkBroadcastList: one page of GET /v1/broadcasts — 100 broadcasts
// with their counts — over a history of 1,000 broadcasts of 1,000
// messages each (1,000,000 messages). The page's cost is its own
// broadcasts' counts (a range of messages_broadcast_status each), not the
// history's size (TestBroadcastListPlans pins the plans).
func BenchmarkBroadcastList(b *testing.B) {
	const broadcasts, per = 1000, 1000
	s := benchStore(b)
	ctx := context.Background()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	msgs := make([]message.Message, per)
	for i := range broadcasts {
		for j := range msgs {
			msgs[j] = benchMsg(int64(j))
			msgs[j].IdempotencyKey = ""
			msgs[j].ID = fmt.Sprintf("b%04d-%04d", i, j)
		}
		if _, _, err := s.CreateBroadcast(ctx, message.Broadcast{ID: fmt.Sprintf("b%04d", i), App: "wx-app-1", TemplateID: "tpl",
			CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)}, msgs); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range []struct {
		name string
		f    storage.BroadcastFilter
	}{
		{"newest-page", storage.BroadcastFilter{Limit: 100}},
		{"app-oldest-page", storage.BroadcastFilter{App: "wx-app-1", Limit: 100, Cursor: storage.BroadcastKey(t0.Add(100*time.Millisecond), "b0100")}},
		// A state no broadcast is in: the walk reads its bound of 1,000
		// broadcasts, each checked by index seeks, none counted.
		{"state-done-none", storage.BroadcastFilter{State: storage.BroadcastDone, Now: t0, Limit: 100}},
	} {
		b.Run(f.name, func(b *testing.B) {
			want, read := 100, 100
			if f.f.State != "" {
				want, read = 0, storage.BroadcastsExamined
			}
			for b.Loop() {
				items, next, err := s.Broadcasts(ctx, f.f)
				if err != nil || len(items) != want || want > 0 && items[0].Counts[message.StatusQueued] != per || want == 0 && next == "" {
					b.Fatalf("page: %d items, next %q, %v", len(items), next, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(read), "µs/broadcast")
		})
	}
}
