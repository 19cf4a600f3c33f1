package quota_test

import (
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/quota"
)

func TestParseWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want quota.Window
		ok   bool
	}{
		{"second", quota.Second, true}, {"s", quota.Second, true}, {"1s", quota.Second, true},
		{"minute", quota.Minute, true}, {"min", quota.Minute, true}, {"1m", quota.Minute, true},
		{"day", quota.Day, true}, {"daily", quota.Day, true}, {"24h", quota.Day, true},
		{"month", quota.Month, true}, {"monthly", quota.Month, true},
		{"", "", false}, {"hour", "", false}, {"Day", "", false}, {"week", "", false},
	}
	for _, tc := range tests {
		got, err := quota.ParseWindow(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseWindow(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWindows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		per   quota.Window
		first time.Time // two calls here use up the limit of 2
		same  time.Time // still the same window: refused
		next  time.Time // the next window: allowed again
	}{
		{"second", quota.Second, utc("2026-03-01T10:00:00.100Z"), utc("2026-03-01T10:00:00.999Z"), utc("2026-03-01T10:00:01Z")},
		{"minute", quota.Minute, utc("2026-03-01T10:00:00Z"), utc("2026-03-01T10:00:59.999Z"), utc("2026-03-01T10:01:00Z")},
		// Beijing midnight is 16:00 UTC: 15:59:59 UTC is still "today" in
		// Beijing even though it is late in the UTC day, and 16:00 UTC starts
		// the next Beijing day although the UTC date has not changed.
		{"beijing day", quota.Day, utc("2026-03-01T16:00:00Z"), utc("2026-03-02T15:59:59.999Z"), utc("2026-03-02T16:00:00Z")},
		{"utc midnight is not a boundary", quota.Day, utc("2026-03-01T23:00:00Z"), utc("2026-03-02T00:30:00Z"), utc("2026-03-02T16:00:00Z")},
		{"day in another zone", quota.Day, utc("2026-03-01T10:00:00+08:00"), utc("2026-03-01T23:59:59+08:00"), utc("2026-03-02T00:00:00+08:00")},
		// A Beijing month: 1 March 00:00 Beijing is 28 February 16:00 UTC.
		{"beijing month", quota.Month, utc("2026-02-28T16:00:00Z"), utc("2026-03-31T15:59:59.999Z"), utc("2026-03-31T16:00:00Z")},
		{"month across a year", quota.Month, utc("2026-12-01T00:00:00+08:00"), utc("2026-12-31T23:59:59+08:00"), utc("2027-01-01T00:00:00+08:00")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := quota.New()
			limits := []quota.Limit{{Endpoint: "send", Max: 2, Per: tc.per}}
			for i := range 2 {
				if _, ok := c.Take("app", limits, "send", tc.first); !ok {
					t.Fatalf("call %d refused under the limit", i+1)
				}
			}
			l, ok := c.Take("app", limits, "send", tc.same)
			if ok || l != limits[0] {
				t.Fatalf("third call in the window: ok=%v limit %+v, want refused by %+v", ok, l, limits[0])
			}
			if got := c.Used("app", "send", tc.per, tc.same); got != 2 {
				t.Fatalf("Used in the window = %d, want 2 (refusals are not counted)", got)
			}
			if got := c.Used("app", "send", tc.per, tc.next); got != 0 {
				t.Fatalf("Used in the next window = %d, want 0", got)
			}
			if _, ok := c.Take("app", limits, "send", tc.next); !ok {
				t.Fatal("call in the next window refused")
			}
			if got := c.Used("app", "send", tc.per, tc.next); got != 1 {
				t.Fatalf("Used after the first call of the next window = %d, want 1", got)
			}
		})
	}
}

func TestTakeAllLimitsOrNone(t *testing.T) {
	t.Parallel()
	now := utc("2026-03-01T10:00:00Z")
	c := quota.New()
	limits := []quota.Limit{
		{Endpoint: "send", Max: 5, Per: quota.Day},
		{Endpoint: "send", Max: 1, Per: quota.Minute},
		{Endpoint: "token", Max: 0, Per: quota.Day}, // other endpoint: no effect on send
	}
	if _, ok := c.Take("a", limits, "send", now); !ok {
		t.Fatal("first send refused")
	}
	l, ok := c.Take("a", limits, "send", now.Add(time.Second))
	if ok || l.Per != quota.Minute {
		t.Fatalf("second send in the minute: ok=%v by %+v, want refused by the minute limit", ok, l)
	}
	// The refused call must not have used the day's quota either.
	if got := c.Used("a", "send", quota.Day, now); got != 1 {
		t.Fatalf("day usage %d, want 1", got)
	}
	if _, ok := c.Take("a", limits, "token", now); ok {
		t.Fatal("a zero limit let a call through")
	}
	if _, ok := c.Take("a", limits, "other", now); !ok {
		t.Fatal("an endpoint without limits was refused")
	}
	if _, ok := c.Take("a", nil, "send", now); !ok {
		t.Fatal("no limits at all refused a call")
	}
}

func TestAppsAreSeparateAndResettable(t *testing.T) {
	t.Parallel()
	now := utc("2026-03-01T10:00:00Z")
	c := quota.New()
	limits := []quota.Limit{{Endpoint: "send", Max: 1, Per: quota.Day}}
	for _, app := range []string{"wechat/a", "wechat/b"} {
		if _, ok := c.Take(app, limits, "send", now); !ok {
			t.Fatalf("%s: first call refused", app)
		}
	}
	c.Reset("wechat/a")
	if _, ok := c.Take("wechat/a", limits, "send", now); !ok {
		t.Fatal("app a still limited after its reset")
	}
	if _, ok := c.Take("wechat/b", limits, "send", now); ok {
		t.Fatal("resetting app a reset app b")
	}
	c.Reset("")
	if got := c.Used("wechat/b", "send", quota.Day, now); got != 0 {
		t.Fatalf("usage after full reset = %d", got)
	}
}

func TestResetExcept(t *testing.T) {
	t.Parallel()
	c := quota.New()
	now := utc("2026-03-01T10:00:00Z")
	limits := []quota.Limit{{Endpoint: "send", Max: 5, Per: quota.Day}, {Endpoint: "send", Max: 5, Per: quota.Minute},
		{Endpoint: "clear", Max: 10, Per: quota.Month}}
	for _, ep := range []string{"send", "clear"} {
		for _, app := range []string{"a", "b"} {
			if _, ok := c.Take(app, limits, ep, now); !ok {
				t.Fatal("refused")
			}
		}
	}
	c.ResetExcept("a", "clear")
	for _, tc := range []struct {
		app, endpoint string
		per           quota.Window
		want          int
	}{
		{"a", "send", quota.Day, 0}, {"a", "send", quota.Minute, 0}, {"a", "clear", quota.Month, 1},
		{"b", "send", quota.Day, 1}, {"b", "clear", quota.Month, 1},
	} {
		if got := c.Used(tc.app, tc.endpoint, tc.per, now); got != tc.want {
			t.Errorf("Used(%s, %s, %s) = %d, want %d", tc.app, tc.endpoint, tc.per, got, tc.want)
		}
	}
}
