package sender_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
)

// csvAnswer is a CSV broadcast's answer (or refusal).
type csvAnswer struct {
	ID         string                  `json:"id"`
	Group      string                  `json:"group"`
	Recipients int                     `json:"recipients"`
	FannedOut  int                     `json:"fanned_out"`
	CSV        *message.AudienceReport `json:"csv"`
	Problems   []struct{ Field, Rule string }
}

func csvQuery(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "/v1/broadcasts?" + v.Encode()
}

// A CSV audience with two bad rows: the answer reports each bad row's line
// and field, the good rows' recipients each receive the broadcast once
// with their own keyword values over the request's data, and the report
// stays readable on the stored group. Retried with its Idempotency-Key,
// the upload answers the first broadcast; on_error=reject stores nothing.
func TestCSVBroadcast(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)

	var b strings.Builder
	b.WriteString("to,thing1,character_string3\n") // line 1
	for i, u := range users[:3] {                  // lines 2-4
		fmt.Fprintf(&b, "%s,给%d号的礼物,ref-%d\n", u, i+1, i+1)
	}
	b.WriteString(",无人的礼物,ref-x\n")                                     // line 5: no recipient
	fmt.Fprintf(&b, "%s,%s,ref-5\n", users[3], strings.Repeat("长", 25)) // line 6: thing1 over 20 characters
	for i, u := range users[4:] {                                       // lines 7-8
		fmt.Fprintf(&b, "%s,给%d号的礼物,ref-%d\n", u, i+5, i+5)
	}
	body := b.String()
	path := csvQuery("app", shopApp, "template_id", tmpl, "data", `{"time2":"2024-05-01 12:30","thing1":"默认"}`)

	code, raw := s.do(http.MethodPost, path, body, "Content-Type", "text/csv", "Idempotency-Key", "csv-1")
	if code != http.StatusAccepted {
		t.Fatalf("POST CSV: %d %s", code, raw)
	}
	var got csvAnswer
	mustJSON(t, raw, &got)
	if got.Recipients != 5 || got.CSV == nil || got.CSV.Rows != 7 || got.CSV.Accepted != 5 || got.CSV.Rejected != 2 {
		t.Fatalf("answer = %s; want 5 recipients, 7 rows, 5 accepted, 2 rejected", raw)
	}
	want := []message.RowError{{Line: 5, Field: "to", Rule: "required"}, {Line: 6, Field: "thing1"}}
	for i, w := range want {
		e := got.CSV.Errors[i]
		if e.Line != w.Line || e.Field != w.Field || (w.Rule != "" && e.Rule != w.Rule) || e.Reason == "" {
			t.Errorf("bad row %d = %+v, want line %d field %s", i, e, w.Line, w.Field)
		}
	}
	good := append(append([]string{}, users[:3]...), users[4:]...)
	for i, u := range good {
		n := i + 1
		if i >= 3 {
			n = i + 2
		}
		msgs := inbox(t, mock, shopAppID, u, 1)
		if len(msgs) != 1 {
			t.Fatalf("%s received %d messages, want 1", u, len(msgs))
		}
		d := msgs[0].Data
		if d["thing1"] != fmt.Sprintf("给%d号的礼物", n) || d["character_string3"] != fmt.Sprintf("ref-%d", n) || d["time2"] != "2024-05-01 12:30" {
			t.Errorf("%s received %v, want its own thing1 and character_string3 over the request's time2", u, d)
		}
	}
	if msgs := inbox(t, mock, shopAppID, users[3], 0); len(msgs) != 0 {
		t.Errorf("the bad row's recipient received %d messages", len(msgs))
	}
	// The report is kept with the stored audience.
	code, raw = s.do(http.MethodGet, "/v1/groups/"+got.Group+"?app="+shopApp, nil)
	var g csvAnswer
	mustJSON(t, raw, &g)
	if code != http.StatusOK || g.CSV == nil || g.CSV.Rejected != 2 || len(g.CSV.Errors) != 2 {
		t.Errorf("GET the audience's group: %d %s; want its report", code, raw)
	}

	// The same upload with the same key: the first broadcast, not a second.
	code, raw = s.do(http.MethodPost, path, body, "Content-Type", "text/csv", "Idempotency-Key", "csv-1")
	var again csvAnswer
	mustJSON(t, raw, &again)
	if code != http.StatusOK || again.ID != got.ID {
		t.Errorf("retried upload: %d %s; want 200 with %s", code, raw, got.ID)
	}
	// Another file with that key: refused.
	code, raw = s.do(http.MethodPost, path, body+users[0]+",x,y\n", "Content-Type", "text/csv", "Idempotency-Key", "csv-1")
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "idempotency_key") {
		t.Errorf("another file with the key: %d %s; want 422 naming idempotency_key", code, raw)
	}

	// on_error=reject: the whole upload is refused with the report, and
	// nothing is stored.
	reject := csvQuery("app", shopApp, "template_id", tmpl, "data", `{"time2":"2024-05-01 12:30"}`, "on_error", "reject", "group", "rejected-audience")
	code, raw = s.do(http.MethodPost, reject, body, "Content-Type", "text/csv")
	var refused csvAnswer
	mustJSON(t, raw, &refused)
	if code != http.StatusUnprocessableEntity || refused.CSV == nil || refused.CSV.Rejected != 2 || len(refused.Problems) != 1 || refused.Problems[0].Rule != "bad_rows" {
		t.Errorf("on_error=reject: %d %s; want 422 bad_rows with the report", code, raw)
	}
	if code, raw := s.do(http.MethodGet, "/v1/groups/rejected-audience?app="+shopApp, nil); code != http.StatusNotFound {
		t.Errorf("the rejected upload's group: %d %s, want 404", code, raw)
	}
	// max_bad_rows=1: two bad rows are one too many.
	code, raw = s.do(http.MethodPost, csvQuery("app", shopApp, "template_id", tmpl, "data", `{"time2":"2024-05-01 12:30"}`, "max_bad_rows", "1"),
		body, "Content-Type", "text/csv")
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "too_many_bad_rows") {
		t.Errorf("max_bad_rows=1 with 2 bad rows: %d %s; want 422 too_many_bad_rows", code, raw)
	}
	// Counted: the first upload's rows only (retries and refusals store
	// nothing).
	_, text := s.do(http.MethodGet, "/metrics", nil)
	if v, _ := metric(string(text), "minipush_audience_rows_total", `app="shop"`, `result="rejected"`); v != 2 {
		t.Errorf("minipush_audience_rows_total{rejected} = %v, want 2", v)
	}
	if v, _ := metric(string(text), "minipush_audience_rows_total", `app="shop"`, `result="accepted"`); v != 5 {
		t.Errorf("minipush_audience_rows_total{accepted} = %v, want 5", v)
	}
	// A header without a to column.
	code, raw = s.do(http.MethodPost, path, "openid,thing1\no_user_1,x\n", "Content-Type", "text/csv")
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), `"field":"header"`) {
		t.Errorf("no to column: %d %s; want 422 naming the header", code, raw)
	}
}

// The same upload as multipart/form-data: the parameters as form fields
// before the part "file".
func TestCSVBroadcastMultipart(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range [][2]string{{"app", clubApp}, {"template_id", tmpl}, {"data", `{"time2":"2024-05-01 12:30","character_string3":"m-1"}`}} {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "audience.csv")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(fw, "\ufeffto,thing1\r\n%s,多部分上传\r\n%s,多部分上传\r\n", users[0], users[1])
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	code, raw := s.do(http.MethodPost, "/v1/broadcasts", buf.Bytes(), "Content-Type", mw.FormDataContentType())
	if code != http.StatusAccepted {
		t.Fatalf("multipart upload: %d %s", code, raw)
	}
	for _, u := range users[:2] {
		msgs := inbox(t, mock, clubAppID, u, 1)
		if len(msgs) != 1 || msgs[0].Data["thing1"] != "多部分上传" || msgs[0].Data["character_string3"] != "m-1" {
			t.Errorf("%s received %+v, want one message with thing1 多部分上传", u, msgs)
		}
	}
}

// 20,000 rows, each with its own value, are stored and fanned out: every
// recipient gets one message with its row's value. The broadcast is sent
// a day ahead so the test measures the audience, not delivery.
func TestCSVAudienceLarge(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)
	const n = 20_000
	var b strings.Builder
	b.WriteString("to,character_string3\n")
	for i := range n {
		fmt.Fprintf(&b, "o_csv_%06d,ref%06d\n", i, i)
	}
	sendAt := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	path := csvQuery("app", shopApp, "template_id", tmpl, "send_at", sendAt,
		"data", `{"thing1":"大促","time2":"2024-05-01 12:30"}`)
	code, raw := s.do(http.MethodPost, path, b.String(), "Content-Type", "text/csv")
	if code != http.StatusAccepted {
		t.Fatalf("POST 20k rows: %d %.300s", code, raw)
	}
	var got csvAnswer
	mustJSON(t, raw, &got)
	if got.Recipients != n || got.CSV.Accepted != n || got.CSV.Rejected != 0 {
		t.Fatalf("answer: %.300s; want %d recipients", raw, n)
	}
	if err := eventually(2*time.Minute, func() bool {
		_, raw := s.do(http.MethodGet, "/v1/broadcasts/"+got.ID, nil)
		var st csvAnswer
		mustJSON(t, raw, &st)
		return st.FannedOut == n
	}); err != nil {
		t.Fatalf("fan-out of %d rows: %v", n, err)
	}
	seen := 0
	for cursor := ""; ; {
		code, raw := s.do(http.MethodGet, query("/v1/messages", "broadcast", got.ID, "limit", "1000", "cursor", cursor), nil)
		if code != http.StatusOK {
			t.Fatalf("list the broadcast's messages: %d %s", code, raw)
		}
		var page struct {
			Items      []message.Message `json:"items"`
			NextCursor string            `json:"next_cursor"`
		}
		mustJSON(t, raw, &page)
		for _, m := range page.Items {
			var i int
			if _, err := fmt.Sscanf(m.To, "o_csv_%06d", &i); err != nil || m.Data["character_string3"] != fmt.Sprintf("ref%06d", i) || m.Data["thing1"] != "大促" {
				t.Fatalf("message to %s has %v", m.To, m.Data)
			}
			seen++
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if seen != n {
		t.Errorf("%d messages, want %d", seen, n)
	}
}

const adminKey = "e2e-admin-api-key-0001"

// clock is a settable clock for the schedules.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type scheduleAnswer struct {
	ID        string                `json:"id"`
	NextRunAt time.Time             `json:"next_run_at"`
	Paused    bool                  `json:"paused"`
	Runs      []message.ScheduleRun `json:"runs"`
}

func (s *svc) schedule(id string) scheduleAnswer {
	s.t.Helper()
	code, raw := s.do(http.MethodGet, "/v1/schedules/"+id, nil)
	if code != http.StatusOK {
		s.t.Fatalf("GET schedule %s: %d %s", id, code, raw)
	}
	var a scheduleAnswer
	mustJSON(s.t, raw, &a)
	return a
}

// A weekly schedule: nothing before Monday 09:00 Shanghai; when the clock
// reaches it, one broadcast, delivered; after a restart no second run.
func TestWeeklySchedule(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	c := &clock{t: time.Date(2030, 1, 6, 12, 0, 0, 0, sh)} // a Sunday
	cfg := testConfig(t, mock.URL)
	cfg.APIKeys = append(cfg.APIKeys, config.APIKey{Name: "ops", Key: adminKey, Scopes: []string{config.ScopeAdmin, config.ScopeRead}})
	s := startServiceWith(t, mock, cfg, nil, sender.WithScheduleClock(c.now))
	body := map[string]any{"app": shopApp, "cron": "0 9 * * 1", "time_zone": "Asia/Shanghai", "to": users[:2],
		"template_id": tmpl, "data": map[string]string{"thing1": "每周提醒", "time2": "2030-01-07 09:00", "character_string3": "weekly"}}
	// Changes need the admin scope.
	if code, raw := s.do(http.MethodPost, "/v1/schedules", body); code != http.StatusForbidden {
		t.Errorf("POST /v1/schedules with a send/read key: %d %s, want 403", code, raw)
	}
	code, raw := s.doKey(http.MethodPost, "/v1/schedules", adminKey, body)
	if code != http.StatusCreated {
		t.Fatalf("POST /v1/schedules: %d %s", code, raw)
	}
	var sc scheduleAnswer
	mustJSON(t, raw, &sc)
	monday := time.Date(2030, 1, 7, 9, 0, 0, 0, sh)
	if !sc.NextRunAt.Equal(monday) {
		t.Errorf("next_run_at = %v, want %v", sc.NextRunAt, monday)
	}
	c.set(monday)
	if err := eventually(20*time.Second, func() bool {
		r := s.schedule(sc.ID).Runs
		return len(r) == 1 && r[0].Outcome == message.RunCreated
	}); err != nil {
		t.Fatalf("no run at Monday 09:00: %v (%+v)", err, s.schedule(sc.ID))
	}
	run := s.schedule(sc.ID).Runs[0]
	for _, u := range users[:2] {
		if msgs := inbox(t, mock, shopAppID, u, 1); len(msgs) != 1 || msgs[0].Data["thing1"] != "每周提醒" {
			t.Fatalf("%s received %+v, want the weekly message once", u, msgs)
		}
	}
	s.restart()
	// A probe due at the same time, created after the restart: once it has
	// run, the runner has ticked over the weekly schedule too.
	probe := map[string]any{"app": shopApp, "cron": "* * * * *", "time_zone": "UTC", "to": users[5:6],
		"template_id": tmpl, "data": body["data"], "paused": false}
	c.set(monday.Add(-time.Minute))
	code, raw = s.doKey(http.MethodPost, "/v1/schedules", adminKey, probe)
	if code != http.StatusCreated {
		t.Fatalf("POST probe: %d %s", code, raw)
	}
	var p scheduleAnswer
	mustJSON(t, raw, &p)
	c.set(monday.Add(30 * time.Second))
	if err := eventually(20*time.Second, func() bool {
		r := s.schedule(p.ID).Runs
		return len(r) == 1 && r[0].Outcome == message.RunCreated
	}); err != nil {
		t.Fatalf("the probe did not run after the restart: %v", err)
	}
	// The restarted process counts one created run: the probe's.
	_, text := s.do(http.MethodGet, "/metrics", nil)
	if v, _ := metric(string(text), "minipush_schedule_runs_total", `app="shop"`, `outcome="created"`); v != 1 {
		t.Errorf("after the restart minipush_schedule_runs_total{created} = %v, want 1 (the probe)", v)
	}
	after := s.schedule(sc.ID)
	if len(after.Runs) != 1 || after.Runs[0].BroadcastID != run.BroadcastID {
		t.Errorf("after the restart the weekly schedule has runs %+v, want only %+v", after.Runs, run)
	}
	for _, u := range users[:2] {
		if msgs := inbox(t, mock, shopAppID, u, 0); len(msgs) != 1 {
			t.Errorf("%s received %d messages after the restart, want 1", u, len(msgs))
		}
	}

	// Pause, resume, delete; list.
	code, raw = s.doKey(http.MethodPost, "/v1/schedules/"+sc.ID+"/pause", adminKey, nil)
	var paused scheduleAnswer
	mustJSON(t, raw, &paused)
	if code != http.StatusOK || !paused.Paused {
		t.Errorf("pause: %d %s", code, raw)
	}
	if code, raw := s.doKey(http.MethodPost, "/v1/schedules/"+sc.ID+"/resume", adminKey, nil); code != http.StatusOK || strings.Contains(string(raw), `"paused":true`) {
		t.Errorf("resume: %d %s", code, raw)
	}
	code, raw = s.do(http.MethodGet, "/v1/schedules?app="+shopApp, nil)
	if code != http.StatusOK || !strings.Contains(string(raw), sc.ID) || !strings.Contains(string(raw), p.ID) {
		t.Errorf("list: %d %s", code, raw)
	}
	if code, raw := s.doKey(http.MethodDelete, "/v1/schedules/"+sc.ID, adminKey, nil); code != http.StatusNoContent {
		t.Errorf("delete: %d %s", code, raw)
	}
	if code, _ := s.do(http.MethodGet, "/v1/schedules/"+sc.ID, nil); code != http.StatusNotFound {
		t.Errorf("GET a deleted schedule: %d, want 404", code)
	}
	// Bad requests name their field.
	for field, bad := range map[string]map[string]any{
		"cron":      {"app": shopApp, "cron": "61 9 * * 1", "to": users[:1], "template_id": tmpl, "data": body["data"]},
		"time_zone": {"app": shopApp, "cron": "0 9 * * 1", "time_zone": "Mars/Olympus", "to": users[:1], "template_id": tmpl, "data": body["data"]},
		"to":        {"app": shopApp, "cron": "0 9 * * 1", "template_id": tmpl, "data": body["data"]},
		"catch_up":  {"app": shopApp, "cron": "0 9 * * 1", "to": users[:1], "template_id": tmpl, "data": body["data"], "catch_up": "all"},
	} {
		code, raw := s.doKey(http.MethodPost, "/v1/schedules", adminKey, bad)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), `"field":"`+field+`"`) {
			t.Errorf("bad %s: %d %s; want 422 naming it", field, code, raw)
		}
	}
}
