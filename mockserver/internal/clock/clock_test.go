package clock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/clock"
)

// near reports whether got is within a generous tolerance of want (the
// clock runs on real time, so tests cannot compare exactly).
func near(got, want time.Time) bool {
	d := got.Sub(want)
	return d > -time.Second && d < time.Second
}

func TestZeroValueIsRealTime(t *testing.T) {
	t.Parallel()
	var c clock.Clock
	if !near(c.Now(), time.Now()) || c.Offset() != 0 {
		t.Fatalf("zero clock at %v offset %v", c.Now(), c.Offset())
	}
}

func TestAdvanceSetReset(t *testing.T) {
	t.Parallel()
	var c clock.Clock
	if got := c.Advance(2 * time.Hour); !near(got, time.Now().Add(2*time.Hour)) {
		t.Fatalf("Advance(2h) = %v", got)
	}
	c.Advance(30 * time.Minute)
	if off := c.Offset(); off < 150*time.Minute-time.Second || off > 150*time.Minute {
		t.Fatalf("offset after 2h+30m = %v", off)
	}
	c.Advance(-3 * time.Hour)
	if !near(c.Now(), time.Now().Add(-30*time.Minute)) {
		t.Fatalf("negative advance: now %v", c.Now())
	}
	target := time.Date(2030, 1, 2, 3, 4, 5, 0, clock.Beijing)
	if got := c.Set(target); !near(got, target) {
		t.Fatalf("Set(%v) = %v", target, got)
	}
	// Time keeps running after Set.
	time.Sleep(20 * time.Millisecond)
	if !c.Now().After(target) {
		t.Fatal("clock stopped after Set")
	}
	c.Reset()
	if !near(c.Now(), time.Now()) || c.Offset() != 0 {
		t.Fatalf("after Reset now %v offset %v", c.Now(), c.Offset())
	}
}

func TestDayStartIsBeijingMidnight(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"2026-03-01T15:59:59Z", "2026-03-01T00:00:00+08:00"},
		{"2026-03-01T16:00:00Z", "2026-03-02T00:00:00+08:00"},
		{"2026-03-01T00:00:00+08:00", "2026-03-01T00:00:00+08:00"},
		{"2026-12-31T23:59:59+08:00", "2026-12-31T00:00:00+08:00"},
		{"2026-03-01T01:00:00-05:00", "2026-03-01T00:00:00+08:00"},
	}
	for _, tc := range tests {
		in, _ := time.Parse(time.RFC3339, tc.in)
		want, _ := time.Parse(time.RFC3339, tc.want)
		if got := clock.DayStart(in); !got.Equal(want) {
			t.Errorf("DayStart(%s) = %v, want %v", tc.in, got, want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	var c clock.Clock
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	if c.Offset() != 800*time.Second {
		t.Fatalf("offset %v, want 800s", c.Offset())
	}
}

func TestOnChange(t *testing.T) {
	t.Parallel()
	var c clock.Clock
	var mu sync.Mutex
	var seen []time.Time
	c.OnChange(func(now time.Time) {
		mu.Lock()
		seen = append(seen, now)
		mu.Unlock()
	})
	c.Advance(time.Hour)
	c.Set(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	c.Reset()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 || !near(seen[0], time.Now().Add(time.Hour)) || seen[1].Year() != 2030 || !near(seen[2], time.Now()) {
		t.Fatalf("watcher saw %v, want the three new times", seen)
	}
}
