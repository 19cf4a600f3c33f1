package redis_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/redistest"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/redis"
)

// Broadcasts stored before the blist index existed (simulated: the index
// and the done mark deleted) are listed by GET /v1/broadcasts after the
// next start, each once, on a standalone Redis and on a cluster; a start
// after that does not scan again.
func TestBroadcastListFilledAtStart(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		name    string
		cluster bool
	}{{"standalone", false}, {"cluster", true}} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			var opts []redistest.Option
			if v.cluster {
				opts = append(opts, redistest.WithCluster())
			}
			srv := redistest.Start(t, opts...)
			cfg := redis.Config{Cluster: v.cluster, Prefix: "fill"}
			ctx := context.Background()
			s := open(t, srv, cfg)
			t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			var want []string
			for i := range 25 {
				app := []string{"app1", "app2", "app3"}[i%3]
				b := message.Broadcast{ID: fmt.Sprintf("bf%03d", i), App: app, Platform: "wechat", TemplateID: "tpl",
					Data: map[string]string{"thing1": "x"}, CreatedAt: t0.Add(time.Duration(i) * time.Second)}
				m := message.Message{ID: b.ID + "-m", App: app, Platform: "wechat", To: "u", TemplateID: "tpl",
					Data: map[string]string{"thing1": "x"}}
				if _, _, err := s.CreateBroadcast(ctx, b, []message.Message{m}); err != nil {
					t.Fatal(err)
				}
				want = append(want, b.ID)
			}
			slices.Reverse(want) // newest first
			if got := listedIDs(t, s); !slices.Equal(got, want) {
				t.Fatalf("listed before: %v, want %v", got, want)
			}
			c := srv.Client(t)
			// As a store from before the index: no blist, no done mark.
			for _, app := range []string{"app1", "app2", "app3"} {
				if err := c.Del(ctx, "fill:{"+app+"}:blist").Err(); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Del(ctx, "fill:blistfilled").Err(); err != nil {
				t.Fatal(err)
			}
			if got := listedIDs(t, s); len(got) != 0 {
				t.Fatalf("listed without the index: %v", got)
			}
			again := open(t, srv, cfg)
			if got := listedIDs(t, again); !slices.Equal(got, want) {
				t.Fatalf("listed after a start: %v, want %v", got, want)
			}
			if n, err := c.Exists(ctx, "fill:blistfilled").Result(); err != nil || n != 1 {
				t.Fatalf("done mark: %d, %v", n, err)
			}
			// Done once: a later start leaves the index as it is (here one
			// entry removed by hand stays removed) and lists each once.
			if err := c.ZRem(ctx, "fill:{app1}:blist", storage.BroadcastKey(t0, "bf000")).Err(); err != nil {
				t.Fatal(err)
			}
			third := open(t, srv, cfg)
			if got := listedIDs(t, third); !slices.Equal(got, want[:len(want)-1]) {
				t.Errorf("listed after a third start: %v, want %v (no second scan)", got, want[:len(want)-1])
			}
		})
	}
}

// listedIDs is every broadcast the store lists, newest first.
func listedIDs(t *testing.T, s *redis.Store) []string {
	t.Helper()
	var out []string
	f := storage.BroadcastFilter{Limit: 10, Now: time.Now()}
	for range 100 {
		items, next, err := s.Broadcasts(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			out = append(out, it.ID)
		}
		if next == "" {
			return out
		}
		f.Cursor = next
	}
	t.Fatal("more than 100 pages")
	return nil
}
