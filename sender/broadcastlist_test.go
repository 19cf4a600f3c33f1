package sender_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/minipush/minipush/sender"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
)

type broadcastListAnswer struct {
	Items []struct {
		ID         string         `json:"id"`
		Recipients int            `json:"recipients"`
		Counts     map[string]int `json:"counts"`
		State      string         `json:"state"`
		Schedule   string         `json:"schedule"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func (s *svc) broadcasts(query string) broadcastListAnswer {
	s.t.Helper()
	code, raw := s.do(http.MethodGet, "/v1/broadcasts?"+query, nil)
	if code != http.StatusOK {
		s.t.Fatalf("GET /v1/broadcasts?%s: %d %s", query, code, raw)
	}
	var a broadcastListAnswer
	mustJSON(s.t, raw, &a)
	return a
}

// GET /v1/broadcasts over HTTP against the mock: a schedule's run is
// listed under its schedule, sending then done once both messages are
// delivered, beside a broadcast sent through the API; the list survives a
// restart.
func TestBroadcastListOverHTTP(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	monday := time.Date(2030, 1, 7, 9, 0, 0, 0, sh)
	c := &clock{t: monday.Add(-time.Hour)}
	cfg := testConfig(t, mock.URL)
	cfg.APIKeys = append(cfg.APIKeys, config.APIKey{Name: "ops", Key: adminKey, Scopes: []string{config.ScopeAdmin, config.ScopeRead}})
	s := startServiceWith(t, mock, cfg, nil, sender.WithScheduleClock(c.now))
	data := map[string]string{"thing1": "每周提醒", "time2": "2030-01-07 09:00", "character_string3": "weekly"}
	code, raw := s.doKey(http.MethodPost, "/v1/schedules", adminKey, map[string]any{"app": shopApp, "cron": "0 9 * * 1",
		"time_zone": "Asia/Shanghai", "to": users[:2], "template_id": tmpl, "data": data})
	if code != http.StatusCreated {
		t.Fatalf("POST /v1/schedules: %d %s", code, raw)
	}
	var sc scheduleAnswer
	mustJSON(t, raw, &sc)
	code, raw = s.do(http.MethodPost, "/v1/broadcasts", map[string]any{"app": shopApp, "to": users[2:3], "template_id": tmpl, "data": data})
	if code != http.StatusAccepted {
		t.Fatalf("POST /v1/broadcasts: %d %s", code, raw)
	}
	var plain struct{ ID string }
	mustJSON(t, raw, &plain)

	c.set(monday)
	if err := eventually(20*time.Second, func() bool {
		r := s.schedule(sc.ID).Runs
		return len(r) == 1 && r[0].Outcome == message.RunCreated
	}); err != nil {
		t.Fatalf("no run at Monday 09:00: %v (%+v)", err, s.schedule(sc.ID))
	}
	run := s.schedule(sc.ID).Runs[0]
	q := url.Values{"schedule": {sc.ID}}.Encode()
	if err := eventually(20*time.Second, func() bool {
		l := s.broadcasts(q)
		return len(l.Items) == 1 && l.Items[0].State == "done"
	}); err != nil {
		t.Fatalf("the run's broadcast did not end done: %v (%+v)", err, s.broadcasts(q))
	}
	l := s.broadcasts(q)
	if it := l.Items[0]; it.ID != run.BroadcastID || it.Schedule != sc.ID || it.Recipients != 2 || it.Counts["delivered"] != 2 || l.NextCursor != "" {
		t.Errorf("schedule %s's broadcasts = %+v, want its run's %s, 2 delivered", sc.ID, l, run.BroadcastID)
	}
	// The broadcast's own answer says the same.
	code, raw = s.do(http.MethodGet, "/v1/broadcasts/"+run.BroadcastID, nil)
	var one struct{ State, Schedule string }
	mustJSON(t, raw, &one)
	if code != http.StatusOK || one.State != "done" || one.Schedule != sc.ID {
		t.Errorf("GET /v1/broadcasts/%s = %d %s, want done, schedule %s", run.BroadcastID, code, raw, sc.ID)
	}
	// Every broadcast, newest first: the run's (made last), then the plain one.
	all := s.broadcasts("app=" + shopApp + "&limit=1")
	if len(all.Items) != 1 || all.Items[0].ID != run.BroadcastID || all.NextCursor == "" {
		t.Fatalf("first page = %+v, want the run's broadcast and a cursor", all)
	}
	next := s.broadcasts("app=" + shopApp + "&limit=1&cursor=" + url.QueryEscape(all.NextCursor))
	if len(next.Items) != 1 || next.Items[0].ID != plain.ID || next.Items[0].Schedule != "" {
		t.Errorf("second page = %+v, want the plain broadcast %s", next, plain.ID)
	}
	if l := s.broadcasts("created_from=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))); len(l.Items) != 0 {
		t.Errorf("created_from an hour ahead lists %+v", l.Items)
	}
	s.restart()
	if l := s.broadcasts(q); len(l.Items) != 1 || l.Items[0].ID != run.BroadcastID {
		t.Errorf("after a restart schedule %s's broadcasts = %+v", sc.ID, l)
	}
}
