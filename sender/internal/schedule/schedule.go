// Package schedule runs recurring broadcasts (issue 16,
// docs/campaigns.md): each schedule's cron expression, read in its time
// zone, names the times it runs; at each, the runner claims the run in
// storage by (schedule id, scheduled time) — atomically, so neither a
// second instance nor this one after a restart makes it again — and makes
// the run's broadcast. Runs missed while no sender ran follow the
// schedule's catch-up policy. The runner reads time from an injected
// clock: tests move it instead of sleeping.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	// Time zones by name in a FROM scratch image, which has no
	// /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"

	"github.com/minipush/minipush/sender/internal/campaign"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Catch-up policies.
const (
	CatchUpLast = "last" // the latest missed run is made when at most CatchUpWithin late
	CatchUpNone = "none" // a run more than LateGrace late is skipped
)

// Defaults.
const (
	DefaultTimeZone      = "Asia/Shanghai"
	DefaultCatchUpWithin = time.Hour
	MaxCatchUpWithin     = 7 * 24 * time.Hour
	// LateGrace is how late a run may start and still count as on time
	// (the runner polls; a loaded machine is slow): within it a run is
	// made whatever the policy.
	LateGrace = time.Minute
	// PendingGrace: a run claimed but not finished for this long belongs
	// to an instance that died between the claim and the broadcast; any
	// instance finishes it (the broadcast's idempotency key makes that
	// safe if the first one was only slow).
	PendingGrace = 30 * time.Second
	DefaultPoll  = time.Second
)

// parser reads standard five-field expressions (minute hour day-of-month
// month day-of-week) and the descriptors (@daily, @weekly, …). The time
// zone is the schedule's time_zone, never a TZ= prefix.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse checks a cron expression and a time zone.
func Parse(expr, tz string) (cron.Schedule, *time.Location, error) {
	if strings.HasPrefix(strings.TrimSpace(expr), "TZ=") || strings.HasPrefix(strings.TrimSpace(expr), "CRON_TZ=") {
		return nil, nil, errors.New("give the time zone in time_zone, not in the expression")
	}
	if strings.HasPrefix(strings.TrimSpace(expr), "@every") {
		return nil, nil, errors.New("@every is not a calendar schedule: use a cron expression")
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" || tz == "Local" {
		return nil, nil, fmt.Errorf("unknown time zone %q (an IANA name such as Asia/Shanghai)", tz)
	}
	sch, err := parser.Parse(expr)
	if err != nil {
		return nil, nil, err
	}
	return sch, loc, nil
}

// Next is the schedule's first run after t (zero when the expression
// names no time in the next five years or does not parse).
func Next(s message.Schedule, t time.Time) time.Time {
	sch, loc, err := Parse(s.Cron, s.TimeZone)
	if err != nil {
		return time.Time{}
	}
	return sch.Next(t.In(loc)).UTC()
}

// NextRun is the schedule's next run as GET shows it: the first cron time
// after its last run (after its creation before any).
func NextRun(s message.Schedule) time.Time {
	base := s.LastRunAt
	if base.IsZero() {
		base = s.CreatedAt
	}
	return Next(s, base)
}

// Store is what the runner needs.
type Store interface {
	storage.Schedules
	CreateBroadcast(ctx context.Context, b message.Broadcast, msgs []message.Message) (message.Broadcast, bool, error)
}

// Hooks connect the runner to the service; any may be nil.
type Hooks struct {
	// Queued: a list broadcast's messages were committed.
	Queued func()
	// FanOut: a group broadcast was committed.
	FanOut func()
	// Ran counts a run by its outcome (metrics).
	Ran func(app, outcome string)
	// Accepted counts the messages a run's broadcast makes (metrics).
	Accepted func(app string, n int)
	// Rules are an app's campaign rules (nil: none), applied to each run
	// as to any broadcast (docs/campaigns.md).
	Rules func(app string) *campaign.Rules
	// Campaign counts what the rules made of a list run's messages:
	// what is "held" or "rejected", rule the held reason or the reason.
	Campaign func(app, what, rule string)
}

// Runner makes the schedules' runs. Create with New, start with Run (or
// call Tick).
type Runner struct {
	store Store
	now   func() time.Time
	poll  time.Duration
	log   *slog.Logger
	hooks Hooks
	wake  chan struct{}
}

// New returns a runner reading time from now.
func New(store Store, now func() time.Time, log *slog.Logger, hooks Hooks, poll time.Duration) *Runner {
	if poll <= 0 {
		poll = DefaultPoll
	}
	return &Runner{store: store, now: now, poll: poll, log: log, hooks: hooks, wake: make(chan struct{}, 1)}
}

// Wake makes the runner look now (a schedule was created or resumed).
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run ticks every poll (or when woken) until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if _, err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("schedules: a tick failed; will try again", "err", err)
		}
		t := time.NewTimer(r.poll)
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// Tick makes every run due at the clock's now, each schedule's at most
// once, and returns how many runs it claimed (made or skipped).
func (r *Runner) Tick(ctx context.Context) (int, error) {
	n, after := 0, ""
	var errs []error
	for {
		page, next, err := r.store.ListSchedules(ctx, "", after, 100)
		if err != nil {
			return n, err
		}
		for _, s := range page {
			took, err := r.step(ctx, s)
			if took {
				n++
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("schedule %s: %w", s.ID, err))
			}
		}
		if next == "" {
			return n, errors.Join(errs...)
		}
		after = next
	}
}

// step makes schedule s's due run, if any.
func (r *Runner) step(ctx context.Context, s message.Schedule) (bool, error) {
	if s.Paused {
		return false, nil
	}
	now := r.now()
	if len(s.Runs) > 0 && s.Runs[0].Outcome == message.RunPending && now.Sub(s.Runs[0].RanAt) >= PendingGrace {
		r.finish(ctx, s, s.Runs[0])
	}
	sch, loc, err := Parse(s.Cron, s.TimeZone)
	if err != nil {
		return false, err
	}
	base := s.LastRunAt
	if base.IsZero() {
		base = s.CreatedAt
	}
	due := sch.Next(base.In(loc))
	if due.IsZero() || due.After(now) {
		return false, nil
	}
	// The latest cron time not after now; the earlier ones were missed.
	missed := 0
	for i := 0; i < 1_000_000; i++ {
		next := sch.Next(due)
		if next.IsZero() || next.After(now) {
			break
		}
		due, missed = next, missed+1
	}
	run := message.ScheduleRun{At: due.UTC(), RanAt: now, Missed: missed, Outcome: message.RunPending}
	late := now.Sub(due)
	allowed := LateGrace
	if s.CatchUp == CatchUpLast {
		allowed = max(allowed, time.Duration(s.CatchUpWithin))
	}
	if late > allowed {
		run.Outcome = message.RunSkipped
		run.Error = fmt.Sprintf("missed by %s (catch_up %s, within %s)", late.Round(time.Second), s.CatchUp, allowed)
	} else {
		run.BroadcastID = message.NewID("bc_", time.Now())
	}
	took, err := r.store.ClaimRun(ctx, s.ID, run)
	if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
		return false, nil // paused or deleted meanwhile
	}
	if err != nil || !took {
		return false, err
	}
	if run.Outcome == message.RunSkipped {
		r.log.Warn("schedules: run skipped", "schedule", s.ID, "scheduled_at", run.At, "missed", missed, "late", late)
		if r.hooks.Ran != nil {
			r.hooks.Ran(s.App, message.RunSkipped)
		}
		return true, nil
	}
	r.finish(ctx, s, run)
	return true, nil
}

// finish makes a claimed run's broadcast and records the outcome. The
// broadcast's idempotency key is the run's, so a second instance
// finishing the same run gets the first one's broadcast.
func (r *Runner) finish(ctx context.Context, s message.Schedule, run message.ScheduleRun) {
	// The broadcast and its messages take their times from the store's
	// clock, which the dispatcher shares: the runner's clock says when
	// runs are due and is the campaign rules' admission clock.
	key := "schedule:" + s.ID + "@" + run.At.UTC().Format(time.RFC3339)
	b := message.Broadcast{ID: run.BroadcastID, App: s.App, Group: s.Group, TemplateID: s.TemplateID, Data: s.Data,
		Page: s.Page, IdempotencyKey: key, Fingerprint: key, APIKey: s.APIKey, Platform: s.Platform}
	var rules *campaign.Rules
	if r.hooks.Rules != nil {
		rules = r.hooks.Rules(s.App)
	}
	now := r.now()
	var msgs []message.Message
	if s.Group == "" {
		// Each message is admitted as a list broadcast's is: quiet hours
		// (unless the schedule is urgent), dedup and caps.
		msgs = make([]message.Message, len(s.To))
		for i, to := range s.To {
			msgs[i] = message.Message{ID: message.NewID("msg_", time.Now()), App: s.App, Platform: b.Platform, To: to,
				TemplateID: s.TemplateID, Data: s.Data, Page: s.Page, BroadcastID: b.ID, Status: message.StatusQueued,
				APIKey: s.APIKey}
			if rules != nil {
				msgs[i].NextAttemptAt = now
				rules.Apply(&msgs[i], campaign.Options{Urgent: s.Urgent}, now)
			}
		}
	} else if end, held := rules.QuietEnd(now, b.ID); held && !s.Urgent {
		// A group's run is held whole, as a group broadcast is; its
		// fan-out applies dedup and caps to each member.
		b.SendAt = end
	}
	stored, dup, err := r.store.CreateBroadcast(ctx, b, msgs)
	outcome, errText := message.RunCreated, ""
	switch {
	case errors.Is(err, storage.ErrNotFound):
		outcome, errText = message.RunFailed, fmt.Sprintf("group %q does not exist", s.Group)
	case errors.Is(err, storage.ErrConflict):
		outcome, errText = message.RunFailed, fmt.Sprintf("group %q has no members", s.Group)
	case err != nil:
		// Left pending: finished by the next tick after PendingGrace.
		r.log.Error("schedules: a run's broadcast was not stored; will try again", "schedule", s.ID, "scheduled_at", run.At, "err", err)
		return
	}
	// Counted before the outcome is written, so that whoever reads the
	// outcome finds it counted.
	if r.hooks.Ran != nil {
		r.hooks.Ran(s.App, outcome)
	}
	if err := r.store.FinishRun(ctx, s.ID, run.At, outcome, stored.ID, errText); err != nil && !errors.Is(err, storage.ErrNotFound) {
		r.log.Error("schedules: a run's outcome was not stored", "schedule", s.ID, "scheduled_at", run.At, "err", err)
	}
	if outcome == message.RunFailed {
		r.log.Warn("schedules: run failed", "schedule", s.ID, "scheduled_at", run.At, "err", errText)
	}
	if outcome != message.RunCreated || dup {
		return
	}
	if r.hooks.Accepted != nil {
		r.hooks.Accepted(s.App, stored.Recipients)
	}
	if r.hooks.Campaign != nil {
		// As the API counts a list broadcast's (CreateBroadcast gave each
		// message its admission's outcome).
		for i := range msgs {
			campaign.Count(&msgs[i], func(what, rule string) { r.hooks.Campaign(s.App, what, rule) })
		}
	}
	if s.Group != "" {
		if r.hooks.FanOut != nil {
			r.hooks.FanOut()
		}
	} else if r.hooks.Queued != nil {
		r.hooks.Queued()
	}
}
