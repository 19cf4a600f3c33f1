package scenarios

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/minipush/minipush/sender/senderclient"
)

// CSV audiences and recurring schedules (features/csv_audiences.feature,
// features/schedules.feature; docs/campaigns.md). The schedules follow the
// sender's clock (sender.WithClock; steps_campaigns.go moves it).

func (s *scenario) registerAudiences(sc *godog.ScenarioContext) {
	sc.Step(`^I broadcast a message to this CSV audience through the sender:$`, s.broadcastCSV)
	sc.Step(`^the sender reports (\d+) bad rows?:$`, s.badRows)
	sc.Step(`^(\w+) does not receive the broadcast$`, s.noBroadcast)
	sc.Step(`^the sender's clock (?:reads|moves to) (\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?) in (\S+)$`, s.moveScheduleClock)
	sc.Step(`^I schedule the message for `+usersRE+` with cron "([^"]+)" in (\S+)$`, s.scheduleMessage)
	sc.Step(`^the schedule's next run is (\d{4}-\d\d-\d\d \d\d:\d\d) in (\S+)$`, s.nextRun)
	sc.Step(`^the schedule has made (\d+) broadcasts?$`, s.scheduleMade)
	sc.Step(`^after the sender has looked at its schedules again, the schedule has still made (\d+) broadcasts?$`, s.scheduleStillMade)
}

// broadcastCSV uploads the doc string as a CSV audience of the app. In
// the header {text} stands for the app's text keyword (the one carrying
// the marker); in the rows a user's name stands for the user and
// {marker} for the broadcast's marker. The other keywords come from the
// request's data.
func (s *scenario) broadcastCSV(doc *godog.DocString) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	bc := &broadcast{app: a, marker: s.marker()}
	data := s.data(a, "", bc.marker, nil)
	text := a.markerKey
	lines := strings.Split(strings.TrimSpace(doc.Content), "\n")
	for i, line := range lines {
		if i == 0 {
			lines[i] = strings.ReplaceAll(line, "{text}", text)
			continue
		}
		to, rest, _ := strings.Cut(line, ",")
		if to = strings.TrimSpace(to); to != "" {
			to = a.userID(to)
		}
		lines[i] = to + "," + strings.ReplaceAll(rest, "{marker}", bc.marker)
	}
	acc, err := c.BroadcastCSV(s.ctx, senderclient.CSVBroadcastRequest{App: a.slot.name, TemplateID: templateID, Data: data, Page: page},
		strings.NewReader(strings.Join(lines, "\n")+"\n"))
	if err := s.record(http.StatusAccepted, acc, err); err != nil {
		return err
	}
	if s.lastErr != nil {
		s.csv = s.lastErr.CSV
		return nil
	}
	bc.id, bc.recipients = acc.ID, acc.Recipients
	s.bc, s.csv = bc, acc.CSV
	return nil
}

// badRows checks the last CSV report against a table of line and field
// ({text}: the app's text keyword).
func (s *scenario) badRows(n int, table *godog.Table) error {
	if s.csv == nil {
		return fmt.Errorf("no CSV report: %d %s", s.lastStatus, s.lastAnswer)
	}
	if s.csv.Rejected != n || len(s.csv.Errors) != n {
		return fmt.Errorf("the report counts %d bad rows and lists %d, want %d: %+v", s.csv.Rejected, len(s.csv.Errors), n, s.csv)
	}
	a, err := s.app()
	if err != nil {
		return err
	}
	for i, row := range table.Rows[1:] {
		line, err := strconv.Atoi(row.Cells[0].Value)
		if err != nil {
			return err
		}
		field := strings.ReplaceAll(row.Cells[1].Value, "{text}", a.markerKey)
		got := s.csv.Errors[i]
		if got.Line != line || got.Field != field || got.Reason == "" {
			return fmt.Errorf("bad row %d: %+v, want line %d, field %s, with a reason", i+1, got, line, field)
		}
	}
	return nil
}

// noBroadcast: once the others have theirs, user has no message of the
// broadcast.
func (s *scenario) noBroadcast(user string) error {
	if s.bc == nil {
		return errors.New("no broadcast was accepted")
	}
	msgs, err := s.inbox(s.bc.app, s.bc.app.userID(user))
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if strings.HasSuffix(m.Data[s.bc.app.markerKey], s.bc.marker) {
			return fmt.Errorf("%s received the broadcast: %+v", user, m)
		}
	}
	return nil
}

func parseLocal(at, zone string) (time.Time, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return time.Time{}, err
	}
	layout := "2006-01-02 15:04"
	if strings.Count(at, ":") == 2 {
		layout += ":05"
	}
	return time.ParseInLocation(layout, at, loc)
}

func (s *scenario) moveScheduleClock(at, zone string) error {
	c, err := s.clock()
	if err != nil {
		return err
	}
	t, err := parseLocal(at, zone)
	if err != nil {
		return err
	}
	c.Set(t)
	return nil
}

// adminClient is a client with the admin scope (schedules).
func (s *scenario) adminClient() (*senderclient.Client, error) {
	base, err := s.w.senderURL(s.ctx)
	if err != nil {
		return nil, err
	}
	return senderclient.New(base, senderclient.WithAPIKey(adminKey), senderclient.WithHTTPClient(s.http),
		senderclient.WithRetry(senderclient.NoRetry))
}

func (s *scenario) scheduleMessage(list, cron, zone string) error {
	return s.scheduleWith(list, cron, zone, nil)
}

func (s *scenario) scheduleWith(list, cron, zone string, opt func(*senderclient.ScheduleRequest)) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	c, err := s.adminClient()
	if err != nil {
		return err
	}
	var to []string
	for _, u := range users(list) {
		to = append(to, a.userID(u))
	}
	bc := &broadcast{app: a, marker: s.marker()}
	req := senderclient.ScheduleRequest{App: a.slot.name, Cron: cron, TimeZone: zone, To: to,
		TemplateID: templateID, Data: s.data(a, "", bc.marker, nil), Page: page}
	if opt != nil {
		opt(&req)
	}
	sc, err := c.CreateSchedule(s.ctx, req)
	if err := s.record(http.StatusCreated, sc, err); err != nil {
		return err
	}
	if s.lastErr != nil {
		return s.lastErr
	}
	s.sched, s.bc = &sc, bc
	return nil
}

func (s *scenario) nextRun(at, zone string) error {
	if s.sched == nil {
		return errors.New("no schedule was made")
	}
	want, err := parseLocal(at, zone)
	if err != nil {
		return err
	}
	if !s.sched.NextRunAt.Equal(want) {
		return fmt.Errorf("next_run_at = %v, want %v", s.sched.NextRunAt, want)
	}
	return nil
}

// made counts the schedule's runs that made a broadcast (and the pending
// ones, which will).
func (s *scenario) made(id string) (created, pending int, runs []senderclient.ScheduleRun, err error) {
	c, err := s.client()
	if err != nil {
		return 0, 0, nil, err
	}
	sc, err := c.Schedule(s.ctx, id)
	if err != nil {
		return 0, 0, nil, err
	}
	for _, r := range sc.Runs {
		switch r.Outcome {
		case senderclient.RunCreated:
			created++
		case senderclient.RunPending:
			pending++
		}
	}
	return created, pending, sc.Runs, nil
}

func (s *scenario) scheduleMade(n int) error {
	if s.sched == nil {
		return errors.New("no schedule was made")
	}
	return s.eventually(fmt.Sprintf("%d broadcasts made", n), func() (bool, string, error) {
		created, pending, runs, err := s.made(s.sched.ID)
		if err != nil {
			return false, "", err
		}
		if created > n {
			return false, "", fmt.Errorf("the schedule made %d broadcasts, want %d: %+v", created, n, runs)
		}
		if created == n && pending == 0 && len(runs) > 0 {
			s.bc.id = runs[0].BroadcastID
		}
		return created == n && pending == 0, fmt.Sprintf("%+v", runs), nil
	})
}

// scheduleStillMade proves the sender's schedule runner has looked again
// before counting: a probe schedule, due one minute after the clock's
// time and aimed at a group that does not exist (its run fails, nothing
// is sent), is made; the clock moves a minute on; once the probe has run,
// the runner has passed over every schedule since.
func (s *scenario) scheduleStillMade(n int) error {
	if s.sched == nil {
		return errors.New("no schedule was made")
	}
	clock, err := s.clock()
	if err != nil {
		return err
	}
	a, err := s.app()
	if err != nil {
		return err
	}
	c, err := s.adminClient()
	if err != nil {
		return err
	}
	probe, err := c.CreateSchedule(s.ctx, senderclient.ScheduleRequest{App: a.slot.name, Cron: "* * * * *", TimeZone: "UTC",
		Group: "no-such-group", TemplateID: templateID, Data: s.data(a, "", s.marker(), nil)})
	if err != nil {
		return fmt.Errorf("create the probe schedule: %w", err)
	}
	defer func() { _ = c.DeleteSchedule(s.ctx, probe.ID) }()
	clock.Set(clock.Now().Add(time.Minute))
	if err := s.eventually("the probe schedule to run", func() (bool, string, error) {
		_, _, runs, err := s.made(probe.ID)
		return err == nil && len(runs) > 0, fmt.Sprintf("%+v", runs), err
	}); err != nil {
		return err
	}
	created, pending, runs, err := s.made(s.sched.ID)
	if err != nil {
		return err
	}
	if created != n || pending != 0 {
		return fmt.Errorf("the schedule made %d broadcasts (%d pending), want %d: %+v", created, pending, n, runs)
	}
	return nil
}
