// Package campaign turns an app's campaign rules (config.Campaigns:
// dedup window, quiet hours, frequency caps) and a message's own settings
// into what the message's admission does: when it may go and why
// (quiet hours), and the message.Admission storage checks and counts
// atomically as it stores the message (docs/campaigns.md). It reads the
// clock it is given, never its own.
package campaign

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"
	// The zones are read from the binary: a FROM scratch image has no
	// zoneinfo of its own.
	_ "time/tzdata"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
)

// Rules are one app's campaign rules.
type Rules struct {
	loc        *time.Location
	dedup      time.Duration
	quiet      *quiet
	caps       []config.FrequencyCap
	hold       bool
	categories map[string]string
}

type quiet struct {
	start, end int // minutes after midnight
	ramp       time.Duration
}

// New reads an app's validated rules; nil for an app without any.
func New(c *config.Campaigns) (*Rules, error) {
	if c == nil {
		return nil, nil
	}
	tz := c.TimeZone
	if tz == "" {
		tz = config.DefaultCampaignTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("campaigns.time_zone: %w", err)
	}
	r := &Rules{loc: loc, caps: c.FrequencyCaps, hold: c.OnExceed == config.OnExceedHold, categories: c.Categories}
	if c.Dedup != nil {
		r.dedup = c.Dedup.Window
	}
	if q := c.QuietHours; q != nil {
		start, err := config.ClockTime(q.Start)
		if err != nil {
			return nil, fmt.Errorf("campaigns.quiet_hours.start: %w", err)
		}
		end, err := config.ClockTime(q.End)
		if err != nil {
			return nil, fmt.Errorf("campaigns.quiet_hours.end: %w", err)
		}
		r.quiet = &quiet{start: start, end: end, ramp: q.Ramp}
	}
	return r, nil
}

// DedupWindow is the app's dedup window (0: none).
func (r *Rules) DedupWindow() time.Duration {
	if r == nil {
		return 0
	}
	return r.dedup
}

// Options are a message's own campaign settings.
type Options struct {
	// Urgent messages pass quiet hours (dedup and caps still apply).
	Urgent bool
	// DedupKey tells messages of one user and template apart (an order
	// id): "" is a key too.
	DedupKey string
	// DedupWindow replaces the app's window (0: the app's).
	DedupWindow time.Duration
}

// Apply prepares new message m (its ID, App, To, TemplateID and
// NextAttemptAt set) for admission at now: a due time inside quiet hours
// moves to the window's end plus the message's place in the ramp
// (HeldReason quiet_hours), and m.Admission carries its dedup entry and
// cap slots. rs nil (an app without rules) applies only o's dedup.
func (r *Rules) Apply(m *message.Message, o Options, now time.Time) {
	if r == nil && o.DedupWindow == 0 {
		return // nothing to check: the common case, once per broadcast recipient
	}
	window := o.DedupWindow
	if window == 0 && r != nil {
		window = r.dedup
	}
	ad := &message.Admission{At: now}
	if window > 0 {
		ad.DedupKey = key(m.To, m.TemplateID, o.DedupKey)
		ad.DedupUntil = now.Add(window)
	}
	if r != nil {
		if !o.Urgent {
			if due, held := r.quietEnd(m.NextAttemptAt, m.ID); held {
				m.NextAttemptAt, m.HeldReason = due, message.HeldQuietHours
			}
		}
		if caps := r.capsOf(m.TemplateID); len(caps) > 0 {
			ad.Slots = append(ad.Slots, message.Slot{Due: m.NextAttemptAt, Held: m.HeldReason,
				Counters: r.counters(m.To, caps, m.NextAttemptAt)})
			if r.hold {
				r.holdSlots(ad, m, caps)
			}
		}
	}
	if ad.DedupKey != "" || len(ad.Slots) > 0 {
		m.Admission = ad
	}
}

// FanOut prepares message m of group broadcast b for admission as its
// member is fanned out at now (storage.FanOutAdmit): the dedup window with
// the broadcast's own key and window, and the frequency caps, per member.
// Quiet hours were decided for the broadcast as a whole when it was made
// (its SendAt), so they are not applied again here; a later-day slot of
// on_exceed hold still moves past them. A due time before now becomes now:
// caps count the period the send falls in.
func (r *Rules) FanOut(b message.Broadcast, m *message.Message, now time.Time) {
	o := Options{Urgent: true}
	if b.Dedup != nil {
		o.DedupKey, o.DedupWindow = b.Dedup.Key, time.Duration(b.Dedup.Window)
	}
	if r == nil && o.DedupWindow == 0 {
		return
	}
	if m.NextAttemptAt.Before(now) {
		m.NextAttemptAt = now
	}
	r.Apply(m, o, now)
}

// Count tells count what the rules made of stored message m, if anything:
// ("rejected", its reason) for a duplicate or a message over its caps,
// ("held", its held reason) for one the rules held (metrics:
// minipush_campaign_rejected_total, minipush_campaign_held_total).
func Count(m *message.Message, count func(what, rule string)) {
	switch {
	case m.Status == message.StatusRejected && (m.Reason == reason.Duplicate || m.Reason == reason.FrequencyCap):
		count("rejected", string(m.Reason))
	case m.Status != message.StatusRejected && m.HeldReason != "":
		count("held", string(m.HeldReason))
	}
}

// holdSlots adds the later slots a message over its caps may take: the
// start of each of the next days, as far as two weeks (a week cap's next
// period always starts within them), moved past quiet hours.
func (r *Rules) holdSlots(ad *message.Admission, m *message.Message, caps []config.FrequencyCap) {
	days := 8
	for _, c := range caps {
		if c.Period == config.PeriodWeek {
			days = 15
		}
	}
	t := m.NextAttemptAt.In(r.loc)
	for d := 1; d < days; d++ {
		start := time.Date(t.Year(), t.Month(), t.Day()+d, 0, 0, 0, 0, r.loc)
		due := start
		if q, held := r.quietEnd(start, m.ID); held {
			due = q
		} else if r.quiet != nil {
			due = start.Add(r.offset(m.ID))
		}
		ad.Slots = append(ad.Slots, message.Slot{Due: due, Held: message.HeldFrequencyCap, Counters: r.counters(m.To, caps, due)})
	}
}

// capsOf are the caps that count template tpl's messages.
func (r *Rules) capsOf(tpl string) []config.FrequencyCap {
	var out []config.FrequencyCap
	for _, c := range r.caps {
		if c.Category == "" || r.categories[tpl] == c.Category {
			out = append(out, c)
		}
	}
	return out
}

// counters are user's counts for a send at t under caps.
func (r *Rules) counters(user string, caps []config.FrequencyCap, t time.Time) []message.Counter {
	out := make([]message.Counter, 0, len(caps))
	for _, c := range caps {
		start, end := r.period(c.Period, t)
		out = append(out, message.Counter{Key: key(user, c.Period+"/"+start.Format("2006-01-02"), c.Category),
			Limit: c.Limit, Until: end})
	}
	return out
}

// period is the day or the week (from Monday) holding t, in the app's
// zone: its start and its end.
func (r *Rules) period(p string, t time.Time) (start, end time.Time) {
	l := t.In(r.loc)
	y, mo, d := l.Date()
	if p == config.PeriodWeek {
		d -= (int(l.Weekday()) + 6) % 7 // back to Monday
		return time.Date(y, mo, d, 0, 0, 0, 0, r.loc), time.Date(y, mo, d+7, 0, 0, 0, 0, r.loc)
	}
	return time.Date(y, mo, d, 0, 0, 0, 0, r.loc), time.Date(y, mo, d+1, 0, 0, 0, 0, r.loc)
}

// QuietEnd reports whether t falls in the app's quiet hours and, if so,
// when message id goes: the window's end plus its place in the ramp.
func (r *Rules) QuietEnd(t time.Time, id string) (time.Time, bool) {
	if r == nil {
		return t, false
	}
	return r.quietEnd(t, id)
}

func (r *Rules) quietEnd(t time.Time, id string) (time.Time, bool) {
	q := r.quiet
	if q == nil {
		return t, false
	}
	l := t.In(r.loc)
	y, mo, d := l.Date()
	min := l.Hour()*60 + l.Minute()
	var endDay int
	switch {
	case q.start < q.end && min >= q.start && min < q.end:
		endDay = d
	case q.start > q.end && min >= q.start:
		endDay = d + 1 // across midnight, before it
	case q.start > q.end && min < q.end:
		endDay = d // across midnight, after it
	default:
		return t, false
	}
	// time.Date normalises a wall time a DST change skips or repeats.
	end := time.Date(y, mo, endDay, q.end/60, q.end%60, 0, 0, r.loc)
	return end.Add(r.offset(id)).UTC(), true
}

// offset is message id's place in the ramp: a hash of the id spread
// evenly over it, so that the held messages go out at a steady pace
// instead of all at the window's end, on every instance alike.
func (r *Rules) offset(id string) time.Duration {
	if r.quiet == nil || r.quiet.ramp <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return time.Duration(h.Sum64()%uint64(r.quiet.ramp/time.Millisecond)) * time.Millisecond
}

// key joins the parts of a dedup or counter key; the user comes first,
// length-prefixed, so no user id can pass for another's.
func key(user, a, b string) string {
	return strconv.Itoa(len(user)) + ":" + user + "|" + strconv.Itoa(len(a)) + ":" + a + "|" + b
}
