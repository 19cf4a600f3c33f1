package campaign_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/campaign"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
)

func rules(t *testing.T, c config.Campaigns) *campaign.Rules {
	t.Helper()
	r, err := campaign.New(&c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestQuietHours: windows across midnight and within a day, in
// Asia/Shanghai (no DST) and America/New_York (DST), the ramp off.
func TestQuietHours(t *testing.T) {
	t.Parallel()
	sh, ny := mustZone(t, "Asia/Shanghai"), mustZone(t, "America/New_York")
	night := config.QuietHours{Start: "22:00", End: "08:00"}
	noon := config.QuietHours{Start: "12:00", End: "14:00"}
	for _, tc := range []struct {
		name string
		tz   string
		q    config.QuietHours
		at   time.Time
		want time.Time // zero: not held
	}{
		{"before the window", "Asia/Shanghai", night, time.Date(2030, 1, 2, 21, 59, 0, 0, sh), time.Time{}},
		{"at its start", "Asia/Shanghai", night, time.Date(2030, 1, 2, 22, 0, 0, 0, sh), time.Date(2030, 1, 3, 8, 0, 0, 0, sh)},
		{"before midnight", "Asia/Shanghai", night, time.Date(2030, 1, 2, 23, 30, 0, 0, sh), time.Date(2030, 1, 3, 8, 0, 0, 0, sh)},
		{"after midnight", "Asia/Shanghai", night, time.Date(2030, 1, 3, 2, 0, 0, 0, sh), time.Date(2030, 1, 3, 8, 0, 0, 0, sh)},
		{"at its end", "Asia/Shanghai", night, time.Date(2030, 1, 3, 8, 0, 0, 0, sh), time.Time{}},
		{"a UTC time in the Shanghai night", "Asia/Shanghai", night, time.Date(2030, 1, 2, 15, 0, 0, 0, time.UTC), time.Date(2030, 1, 3, 0, 0, 0, 0, time.UTC)},
		{"within a day", "Asia/Shanghai", noon, time.Date(2030, 1, 2, 13, 0, 0, 0, sh), time.Date(2030, 1, 2, 14, 0, 0, 0, sh)},
		{"outside a day window", "Asia/Shanghai", noon, time.Date(2030, 1, 2, 23, 0, 0, 0, sh), time.Time{}},
		// New York springs forward on 2030-03-10 at 02:00 (EST → EDT): the
		// night is an hour shorter, and the window still ends at 08:00 EDT.
		{"DST night", "America/New_York", night, time.Date(2030, 3, 9, 23, 0, 0, 0, ny), time.Date(2030, 3, 10, 12, 0, 0, 0, time.UTC)},
		{"the night before DST", "America/New_York", night, time.Date(2030, 3, 8, 23, 0, 0, 0, ny), time.Date(2030, 3, 9, 13, 0, 0, 0, time.UTC)},
		// …and falls back on 2030-11-03: 01:30 happens twice, both inside.
		{"fall back", "America/New_York", night, time.Date(2030, 11, 3, 5, 30, 0, 0, time.UTC), time.Date(2030, 11, 3, 13, 0, 0, 0, time.UTC)},
		{"fall back, second 01:30", "America/New_York", night, time.Date(2030, 11, 3, 6, 30, 0, 0, time.UTC), time.Date(2030, 11, 3, 13, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rules(t, config.Campaigns{TimeZone: tc.tz, QuietHours: &tc.q})
			got, held := r.QuietEnd(tc.at, "msg_1")
			if tc.want.IsZero() {
				if held {
					t.Errorf("held until %v, want not held", got)
				}
				return
			}
			if !held || !got.Equal(tc.want) {
				t.Errorf("QuietEnd = %v, %v; want %v", got, held, tc.want.UTC())
			}
		})
	}
}

// TestRamp: held messages are spread over the ramp, evenly enough that
// no tenth of it gets twice its share, and each id always gets the same
// place.
func TestRamp(t *testing.T) {
	t.Parallel()
	sh := mustZone(t, "Asia/Shanghai")
	r := rules(t, config.Campaigns{QuietHours: &config.QuietHours{Start: "22:00", End: "08:00", Ramp: 30 * time.Minute}})
	end := time.Date(2030, 1, 3, 8, 0, 0, 0, sh)
	const n = 10000
	var buckets [10]int
	for i := range n {
		id := fmt.Sprintf("msg_%d", i)
		got, held := r.QuietEnd(time.Date(2030, 1, 3, 1, 0, 0, 0, sh), id)
		if !held {
			t.Fatal("not held")
		}
		off := got.Sub(end)
		if off < 0 || off >= 30*time.Minute {
			t.Fatalf("%s goes at end+%v, outside the 30m ramp", id, off)
		}
		buckets[off/(3*time.Minute)]++
		if again, _ := r.QuietEnd(time.Date(2030, 1, 2, 23, 0, 0, 0, sh), id); !again.Equal(got) {
			t.Fatalf("%s: %v then %v", id, got, again)
		}
	}
	for i, b := range buckets {
		if b < n/10/2 || b > n/10*2 {
			t.Errorf("ramp tenth %d holds %d of %d messages", i, b, n)
		}
	}
}

// TestApply: what a message's admission carries.
func TestApply(t *testing.T) {
	t.Parallel()
	sh := mustZone(t, "Asia/Shanghai")
	r := rules(t, config.Campaigns{
		Dedup:         &config.Dedup{Window: time.Hour},
		QuietHours:    &config.QuietHours{Start: "22:00", End: "08:00"},
		FrequencyCaps: []config.FrequencyCap{{Period: "day", Limit: 2}, {Period: "week", Limit: 5, Category: "promo"}},
		OnExceed:      config.OnExceedHold,
		Categories:    map[string]string{"tpl-promo": "promo"},
	})
	now := time.Date(2030, 1, 2, 23, 0, 0, 0, sh) // a Wednesday night
	m := message.Message{ID: "msg_1", App: "shop", To: "u1", TemplateID: "tpl-promo", NextAttemptAt: now}
	r.Apply(&m, campaign.Options{}, now)
	if m.HeldReason != message.HeldQuietHours || !m.NextAttemptAt.Equal(time.Date(2030, 1, 3, 8, 0, 0, 0, sh)) {
		t.Errorf("held %q until %v", m.HeldReason, m.NextAttemptAt)
	}
	ad := m.Admission
	if ad == nil || ad.DedupKey == "" || !ad.DedupUntil.Equal(now.Add(time.Hour)) {
		t.Fatalf("admission %+v", ad)
	}
	// Slot 0 plus the next 14 days (a week cap).
	if len(ad.Slots) != 15 {
		t.Fatalf("%d slots, want 15", len(ad.Slots))
	}
	s0 := ad.Slots[0]
	if len(s0.Counters) != 2 || !s0.Counters[0].Until.Equal(time.Date(2030, 1, 4, 0, 0, 0, 0, sh)) ||
		!s0.Counters[1].Until.Equal(time.Date(2030, 1, 7, 0, 0, 0, 0, sh)) {
		t.Errorf("slot 0 counters %+v: want the day of Jan 3 and the week to Monday Jan 7", s0.Counters)
	}
	if s1 := ad.Slots[1]; s1.Held != message.HeldFrequencyCap || !s1.Due.Equal(time.Date(2030, 1, 4, 8, 0, 0, 0, sh)) {
		t.Errorf("slot 1 = %v held %q: want Jan 4 08:00 (midnight is in quiet hours)", s1.Due, s1.Held)
	}
	// Urgent: not held; a template without a category: only the day cap.
	u := message.Message{ID: "msg_2", App: "shop", To: "u1", TemplateID: "tpl-order", NextAttemptAt: now}
	r.Apply(&u, campaign.Options{Urgent: true, DedupKey: "order-7", DedupWindow: 5 * time.Minute}, now)
	if u.HeldReason != "" || !u.NextAttemptAt.Equal(now) {
		t.Errorf("urgent message held %q until %v", u.HeldReason, u.NextAttemptAt)
	}
	if len(u.Admission.Slots[0].Counters) != 1 || !u.Admission.DedupUntil.Equal(now.Add(5*time.Minute)) {
		t.Errorf("urgent admission %+v", u.Admission)
	}
	if u.Admission.DedupKey == ad.DedupKey {
		t.Error("another template and dedup key share a dedup identity")
	}
	// No rules, no dedup: no admission.
	var none *campaign.Rules
	p := message.Message{ID: "msg_3", To: "u1", TemplateID: "t", NextAttemptAt: now}
	none.Apply(&p, campaign.Options{}, now)
	if p.Admission != nil || p.HeldReason != "" {
		t.Errorf("an app without rules: %+v", p)
	}
}

// TestFanOut: a group's member at the fan-out gets the broadcast's own
// dedup key and window and the app's caps, but no quiet-hours hold (the
// broadcast was held whole); a due time in the past counts now's period;
// an app without rules and a broadcast without its own window: nothing.
func TestFanOut(t *testing.T) {
	t.Parallel()
	sh := mustZone(t, "Asia/Shanghai")
	now := time.Date(2030, 1, 2, 23, 30, 0, 0, sh) // inside quiet hours
	r := rules(t, config.Campaigns{Dedup: &config.Dedup{Window: time.Hour},
		QuietHours:    &config.QuietHours{Start: "22:00", End: "08:00", Ramp: 10 * time.Minute},
		FrequencyCaps: []config.FrequencyCap{{Period: config.PeriodDay, Limit: 2}}})
	b := message.Broadcast{ID: "bc_1", App: "shop", TemplateID: "tpl",
		Dedup: &message.BroadcastDedup{Key: "spring", Window: message.Duration(2 * time.Hour)}}
	m := message.Message{ID: "msg_1", App: "shop", To: "u1", TemplateID: "tpl", NextAttemptAt: now.Add(-time.Hour)}
	r.FanOut(b, &m, now)
	ad := m.Admission
	if ad == nil || !ad.At.Equal(now) || !ad.DedupUntil.Equal(now.Add(2*time.Hour)) || ad.DedupKey == "" {
		t.Fatalf("admission %+v: want the broadcast's 2h window from now", ad)
	}
	other := message.Message{ID: "msg_2", App: "shop", To: "u1", TemplateID: "tpl", NextAttemptAt: now}
	r.FanOut(message.Broadcast{ID: "bc_2", App: "shop", TemplateID: "tpl"}, &other, now)
	if other.Admission.DedupKey == ad.DedupKey {
		t.Errorf("dedup key %q with and without the broadcast's own key: want them apart", ad.DedupKey)
	}
	if m.HeldReason != "" || !m.NextAttemptAt.Equal(now) {
		t.Errorf("held %q, due %v; want no quiet-hours hold at the fan-out, due now", m.HeldReason, m.NextAttemptAt)
	}
	if len(ad.Slots) != 1 || len(ad.Slots[0].Counters) != 1 || ad.Slots[0].Counters[0].Limit != 2 ||
		!ad.Slots[0].Counters[0].Until.Equal(time.Date(2030, 1, 3, 0, 0, 0, 0, sh)) {
		t.Errorf("slots %+v: want the day cap of 2 until midnight in Shanghai", ad.Slots)
	}
	var none *campaign.Rules
	plain := message.Message{ID: "msg_3", To: "u1", TemplateID: "tpl"}
	none.FanOut(message.Broadcast{ID: "bc_3"}, &plain, now)
	if plain.Admission != nil || !plain.NextAttemptAt.IsZero() {
		t.Errorf("no rules: admission %+v, due %v; want nothing touched", plain.Admission, plain.NextAttemptAt)
	}
}

// TestCount: what metrics count of a stored message.
func TestCount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		m    message.Message
		want string
	}{
		{message.Message{Status: message.StatusRejected, Reason: "duplicate", HeldReason: message.HeldQuietHours}, "rejected duplicate"},
		{message.Message{Status: message.StatusRejected, Reason: "frequency_cap"}, "rejected frequency_cap"},
		{message.Message{Status: message.StatusQueued, HeldReason: message.HeldFrequencyCap}, "held frequency_cap"},
		{message.Message{Status: message.StatusRejected, Reason: "not_subscribed"}, ""},
		{message.Message{Status: message.StatusQueued}, ""},
	} {
		got := ""
		campaign.Count(&tc.m, func(what, rule string) { got = what + " " + rule })
		if got != tc.want {
			t.Errorf("Count(%s %q held %q) = %q, want %q", tc.m.Status, tc.m.Reason, tc.m.HeldReason, got, tc.want)
		}
	}
}
