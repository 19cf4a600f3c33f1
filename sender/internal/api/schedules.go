package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/schedule"
)

// Recurring schedules (issue 16, docs/campaigns.md): POST /v1/schedules
// makes one; at each time its cron expression names in its time zone the
// sender makes a broadcast of its template to its target (a list, or a
// group — a CSV audience is one). Reads need the read scope, changes the
// admin scope.

type scheduleRequest struct {
	App           string            `json:"app"`
	Cron          string            `json:"cron"`
	TimeZone      string            `json:"time_zone"`
	To            []string          `json:"to"`
	Group         string            `json:"group"`
	TemplateID    string            `json:"template_id"`
	Data          map[string]string `json:"data"`
	Page          string            `json:"page"`
	CatchUp       string            `json:"catch_up"`
	CatchUpWithin *string           `json:"catch_up_within"`
	Paused        bool              `json:"paused"`
	// Urgent runs pass the app's quiet hours (docs/campaigns.md).
	Urgent bool `json:"urgent"`
}

// scheduleNow is the clock schedules are judged by (tests inject one).
func (a *API) scheduleNow() time.Time {
	if a.hooks.ScheduleNow != nil {
		return a.hooks.ScheduleNow()
	}
	return a.now()
}

// withNext fills a schedule's computed next run.
func withNext(s message.Schedule) message.Schedule {
	s.NextRunAt = schedule.NextRun(s)
	if s.Runs == nil {
		s.Runs = []message.ScheduleRun{}
	}
	return s
}

// POST /v1/schedules → 201 with the schedule (id, next_run_at, runs: []).
func (a *API) postSchedule(w http.ResponseWriter, r *http.Request) {
	if a.schedules == nil {
		noStorage(w, "schedules")
		return
	}
	if _, ps := queryParams(r); len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	var req scheduleRequest
	if !decode(w, r, maxBroadcastBody, &req) {
		return
	}
	// A group's members may bring their own values (a CSV audience):
	// only a list's data is held to the template's keywords now.
	var (
		app config.App
		ps  []Problem
	)
	if req.Group != "" {
		app, ps = a.checkBase(req.App, req.TemplateID, req.Data, req.Page)
	} else {
		app, ps = a.checkContent(r.Context(), req.App, req.TemplateID, req.Data, req.Page)
	}
	switch {
	case len(req.To) > 0 && req.Group != "":
		ps = append(ps, Problem{"to", "exclusive", "give to or group, not both"})
	case len(req.To) == 0 && req.Group == "":
		ps = append(ps, Problem{"to", "required", "to (a list of recipients) or group is required"})
	}
	ps = append(ps, checkIdent("group", req.Group, maxGroupNameBytes)...)
	ps = append(ps, checkList("to", req.To)...)
	recipients := dedupe(req.To)
	if len(recipients) > maxListRecipients {
		ps = append(ps, Problem{"to", "too_many", fmt.Sprintf("to lists %d recipients, more than %d: use a group", len(recipients), maxListRecipients)})
	}
	if req.TimeZone == "" {
		req.TimeZone = schedule.DefaultTimeZone
	}
	if _, err := time.LoadLocation(req.TimeZone); err != nil || req.TimeZone == "Local" {
		ps = append(ps, Problem{"time_zone", "invalid", fmt.Sprintf("unknown time zone %q: give an IANA name such as Asia/Shanghai", req.TimeZone)})
	} else if req.Cron == "" {
		ps = append(ps, Problem{"cron", "required", "cron is required: minute hour day-of-month month day-of-week (\"0 9 * * 1\": Mondays 09:00)"})
	} else if _, _, err := schedule.Parse(req.Cron, req.TimeZone); err != nil {
		ps = append(ps, Problem{"cron", "invalid", fmt.Sprintf("cron %q: %v", truncate(req.Cron, 64), err)})
	} else if schedule.Next(message.Schedule{Cron: req.Cron, TimeZone: req.TimeZone}, a.scheduleNow()).IsZero() {
		ps = append(ps, Problem{"cron", "never", "the expression names no time in the next five years"})
	}
	switch req.CatchUp {
	case "":
		req.CatchUp = schedule.CatchUpLast
	case schedule.CatchUpLast, schedule.CatchUpNone:
	default:
		ps = append(ps, Problem{"catch_up", "enum", "catch_up must be last (the latest missed run is made, within catch_up_within) or none"})
	}
	within := schedule.DefaultCatchUpWithin
	if req.CatchUpWithin != nil {
		d, err := time.ParseDuration(*req.CatchUpWithin)
		if err != nil || d < 0 || d > schedule.MaxCatchUpWithin {
			ps = append(ps, Problem{"catch_up_within", "range", fmt.Sprintf("catch_up_within must be a duration from 0s to %s (\"1h\")", schedule.MaxCatchUpWithin)})
		}
		within = d
	}
	if len(ps) > 0 {
		ps = capProblems(ps)
		a.rejected(req.App, ps)
		writeProblems(w, ps)
		return
	}
	now := a.scheduleNow().UTC().Truncate(time.Millisecond)
	s := message.Schedule{ID: message.NewID("sch_", now), App: app.Name, Platform: app.Platform, Cron: req.Cron,
		TimeZone: req.TimeZone, To: recipients, Group: req.Group, TemplateID: req.TemplateID, Data: req.Data,
		Page: req.Page, CatchUp: req.CatchUp, CatchUpWithin: message.Duration(within), Paused: req.Paused,
		Urgent: req.Urgent, APIKey: keyName(r), CreatedAt: now, UpdatedAt: now, Runs: []message.ScheduleRun{}}
	if len(s.To) == 0 {
		s.To = nil
	}
	if err := a.schedules.CreateSchedule(r.Context(), s); err != nil {
		a.storeError(w, err, "schedule")
		return
	}
	if a.hooks.ScheduleChanged != nil {
		a.hooks.ScheduleChanged()
	}
	writeJSON(w, http.StatusCreated, withNext(s))
}

// GET /v1/schedules?app=&limit=&cursor= → a page of schedules by id.
func (a *API) listSchedules(w http.ResponseWriter, r *http.Request) {
	if a.schedules == nil {
		noStorage(w, "schedules")
		return
	}
	q, ps := queryParams(r, "app", "limit", "cursor")
	if app := q["app"]; app != "" {
		if _, known := a.apps[app]; !known {
			ps = append(ps, Problem{"app", "unknown_app", "query parameter app must name a configured app"})
		}
	}
	limit, ps := listLimit(q, ps)
	ps = append(ps, checkIdent("cursor", q["cursor"], maxPathIDBytes)...)
	if len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	ss, next, err := a.schedules.ListSchedules(r.Context(), q["app"], q["cursor"], limit)
	if err != nil {
		a.storeError(w, err, "schedules")
		return
	}
	for i := range ss {
		ss[i] = withNext(ss[i])
	}
	writeJSON(w, http.StatusOK, page(ss, next))
}

// scheduleID reads {id} (400 when bad) and checks the store keeps
// schedules.
func (a *API) scheduleID(w http.ResponseWriter, r *http.Request) (string, bool) {
	if a.schedules == nil {
		noStorage(w, "schedules")
		return "", false
	}
	id, ps := pathID(r)
	if _, qp := queryParams(r); len(ps)+len(qp) > 0 {
		writeBadParams(w, append(ps, qp...))
		return "", false
	}
	return id, true
}

// GET /v1/schedules/{id} → the schedule with its runs (newest first) and
// next run.
func (a *API) getSchedule(w http.ResponseWriter, r *http.Request) {
	id, ok := a.scheduleID(w, r)
	if !ok {
		return
	}
	s, err := a.schedules.Schedule(r.Context(), id)
	if err != nil {
		a.storeError(w, err, "schedule")
		return
	}
	writeJSON(w, http.StatusOK, withNext(s))
}

// POST /v1/schedules/{id}/pause and /resume → the schedule. A resumed
// schedule's runs missed while paused follow its catch-up policy.
func (a *API) pauseSchedule(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := a.scheduleID(w, r)
		if !ok {
			return
		}
		s, err := a.schedules.PauseSchedule(r.Context(), id, paused, a.scheduleNow())
		if err != nil {
			a.storeError(w, err, "schedule")
			return
		}
		if !paused && a.hooks.ScheduleChanged != nil {
			a.hooks.ScheduleChanged()
		}
		writeJSON(w, http.StatusOK, withNext(s))
	}
}

// DELETE /v1/schedules/{id} → 204. Broadcasts its runs made stay.
func (a *API) deleteSchedule(w http.ResponseWriter, r *http.Request) {
	id, ok := a.scheduleID(w, r)
	if !ok {
		return
	}
	if err := a.schedules.DeleteSchedule(r.Context(), id); err != nil {
		a.storeError(w, err, "schedule")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
