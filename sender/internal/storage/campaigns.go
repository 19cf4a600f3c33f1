package storage

import (
	"context"
	"fmt"
	"iter"
	"sync/atomic"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
)

// Audiences is a Store whose groups may carry per-member keyword values:
// CSV audiences (issue 16, docs/campaigns.md). Both drivers implement it
// and pass the conformance suite's Audience tests.
type Audiences interface {
	// PutAudience writes app's group name as PutGroup does — in bounded
	// chunks, switched over at once when members end without an error —
	// with each member's Data kept beside it. A member given twice keeps
	// its first row. report is called once members are exhausted and its
	// answer is stored with the group (message.Group.CSV). key and
	// fingerprint are as PutGroup's (the same group-write scope).
	PutAudience(ctx context.Context, app, name string, members iter.Seq2[message.Member, error], report func() *message.AudienceReport, key string, fingerprint func() string) (g message.Group, dup bool, err error)
}

// Schedules is a Store that keeps recurring schedules (issue 16). Both
// drivers implement it and pass the conformance suite's Schedule tests.
// A run is claimed by (schedule id, scheduled time) atomically, so two
// instances (or one restarted) never make the same run twice.
type Schedules interface {
	// CreateSchedule stores a new schedule (ID, App set; Runs and
	// LastRunAt as given). ErrConflict when the id is taken.
	CreateSchedule(ctx context.Context, s message.Schedule) error
	// Schedule reads one schedule with its runs, newest first;
	// ErrNotFound when there is none.
	Schedule(ctx context.Context, id string) (message.Schedule, error)
	// ListSchedules pages through the schedules by id: app's ("" for
	// every app's), at most PageSize(limit) after the id after;
	// next is the after of the next page, "" on the last.
	ListSchedules(ctx context.Context, app, after string, limit int) (ss []message.Schedule, next string, err error)
	// PauseSchedule sets the schedule's Paused at at (UpdatedAt) and
	// returns it; ErrNotFound when there is none.
	PauseSchedule(ctx context.Context, id string, paused bool, at time.Time) (message.Schedule, error)
	// DeleteSchedule deletes a schedule; ErrNotFound when there is none.
	// Broadcasts its runs made are not touched.
	DeleteSchedule(ctx context.Context, id string) error
	// ClaimRun records run as the schedule's latest (ClaimRun in this
	// package says when it applies) and reports whether it did: false
	// when a run at or after run.At is recorded already — another
	// instance, or this one before a restart, has it. ErrNotFound when the
	// schedule is gone; ErrConflict when it is paused.
	ClaimRun(ctx context.Context, id string, run message.ScheduleRun) (bool, error)
	// FinishRun sets the outcome, broadcast and error of the run at at
	// (a pending one); ErrNotFound when there is no such run.
	FinishRun(ctx context.Context, id string, at time.Time, outcome, broadcastID, errText string) error
}

// ClaimRun applies a claim to schedule s as every driver must, inside its
// own atomic read-modify-write: the run is taken when s is not paused and
// run.At is after s.LastRunAt; it becomes the newest run and LastRunAt,
// and the history keeps the newest message.MaxScheduleRuns.
func ClaimRun(s *message.Schedule, run message.ScheduleRun) (bool, error) {
	if s.Paused {
		return false, ErrConflict
	}
	if !run.At.After(s.LastRunAt) {
		return false, nil
	}
	s.LastRunAt = run.At
	s.Runs = append([]message.ScheduleRun{run}, s.Runs...)
	if len(s.Runs) > message.MaxScheduleRuns {
		s.Runs = s.Runs[:message.MaxScheduleRuns]
	}
	return true, nil
}

// FinishRun applies a run's outcome to schedule s; false when s has no run
// at at.
func FinishRun(s *message.Schedule, at time.Time, outcome, broadcastID, errText string) bool {
	for i := range s.Runs {
		if s.Runs[i].At.Equal(at) {
			s.Runs[i].Outcome, s.Runs[i].Error = outcome, errText
			if broadcastID != "" {
				s.Runs[i].BroadcastID = broadcastID
			}
			return true
		}
	}
	return false
}

// ScheduleChange is a driver's atomic read-modify-write of schedule id:
// change edits the stored schedule and answers whether to write it back;
// ErrNotFound when there is none.
type ScheduleChange func(ctx context.Context, id string, change func(*message.Schedule) (bool, error)) (message.Schedule, error)

// ClaimRunWith is Schedules.ClaimRun for a driver: ClaimRun inside the
// driver's modify.
func ClaimRunWith(ctx context.Context, modify ScheduleChange, id string, run message.ScheduleRun) (bool, error) {
	var took bool
	_, err := modify(ctx, id, func(sc *message.Schedule) (bool, error) {
		var err error
		took, err = ClaimRun(sc, run)
		return took, err
	})
	return took, err
}

// FinishRunWith is Schedules.FinishRun for a driver: FinishRun inside the
// driver's modify.
func FinishRunWith(ctx context.Context, modify ScheduleChange, id string, at time.Time, outcome, broadcastID, errText string) error {
	_, err := modify(ctx, id, func(sc *message.Schedule) (bool, error) {
		if !FinishRun(sc, at, outcome, broadcastID, errText) {
			return false, fmt.Errorf("schedule %s: run at %s: %w", id, at.Format(time.RFC3339), ErrNotFound)
		}
		return true, nil
	})
	return err
}

// FanOutAdmit prepares message m of group broadcast b for admission as
// its member is fanned out (campaign rules, docs/campaigns.md): it may set
// m.Admission, m.NextAttemptAt and m.HeldReason, which the fan-out then
// applies per member as Enqueue does — the check and the entry in the
// step's own write. nil: no rules.
type FanOutAdmit func(b message.Broadcast, m *message.Message)

// FanOutAdmitted is told, after a fan-out step's write, the messages of
// broadcast b whose admission ran, as stored (Status, Reason,
// DuplicateOf, NextAttemptAt, HeldReason): the metrics of what the rules
// did.
type FanOutAdmitted func(b message.Broadcast, ms []message.Message)

// FanOutAdmitter is a Store whose group fan-out applies campaign rules to
// each member. Both drivers implement it and pass the conformance suite's
// CampaignFanOut tests. Set it before the fan-out starts; admitted may be
// nil.
type FanOutAdmitter interface {
	SetFanOutAdmit(f FanOutAdmit, admitted FanOutAdmitted)
}

// FanOutHooks keeps what SetFanOutAdmit was given, safe for concurrent
// use; a driver embeds it to implement FanOutAdmitter.
type FanOutHooks struct {
	admit    atomic.Pointer[FanOutAdmit]
	admitted atomic.Pointer[FanOutAdmitted]
}

// SetFanOutAdmit implements FanOutAdmitter.
func (h *FanOutHooks) SetFanOutAdmit(f FanOutAdmit, admitted FanOutAdmitted) {
	h.admit.Store(nil)
	h.admitted.Store(nil)
	if f != nil {
		h.admit.Store(&f)
	}
	if admitted != nil {
		h.admitted.Store(&admitted)
	}
}

// AdmitAtFanOut is the FanOutAdmit set, nil when none.
func (h *FanOutHooks) AdmitAtFanOut() FanOutAdmit {
	if f := h.admit.Load(); f != nil {
		return *f
	}
	return nil
}

// AdmittedAtFanOut is the FanOutAdmitted set, nil when none.
func (h *FanOutHooks) AdmittedAtFanOut() FanOutAdmitted {
	if f := h.admitted.Load(); f != nil {
		return *f
	}
	return nil
}

// Admitted copies what admission made of a message (from what was
// stored) to m.
func Admitted(m *message.Message, stored message.Message) {
	m.Status, m.Reason, m.DuplicateOf = stored.Status, stored.Reason, stored.DuplicateOf
	m.NextAttemptAt, m.HeldReason = stored.NextAttemptAt, stored.HeldReason
}
