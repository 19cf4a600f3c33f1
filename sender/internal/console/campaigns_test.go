package console_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/senderclient"
)

// orderData is the demo order template's values.
func orderData(thing string) map[string]string {
	return map[string]string{"thing1": thing, "character_string2": "S-1", "date3": "2026-11-25", "phrase4": "已发货"}
}

// The schedules page lists a schedule made through the API with its cron,
// time zone, next run, last run and state; its Pause, Resume and Delete
// forms act through the API (admin scope, CSRF token), which reports the
// change; a read-only key sees no forms and its forged post changes
// nothing.
func TestSchedulesPage(t *testing.T) {
	w := start(t)
	sc, err := w.admin.CreateSchedule(ctxT(t), senderclient.ScheduleRequest{App: appName, Cron: "0 9 * * 1",
		TimeZone: "Asia/Shanghai", To: []string{alice, bob}, TemplateID: order, Data: orderData("Weekly")})
	if err != nil {
		t.Fatal(err)
	}
	b := w.newBrowser(t)
	b.signIn(adminKey)
	resp, body := b.get("/console/schedules")
	for _, want := range []string{`id="sch-` + sc.ID + `"`, `<code class="cron">0 9 * * 1</code>`, "Asia/Shanghai",
		sc.NextRunAt.UTC().Format("2006-01-02 15:04:05.000Z"), "none yet", "list · 2", `class="pill ok">active`,
		`action="/console/schedules/` + sc.ID + `/pause"`, `href="/console/broadcasts?schedule=` + sc.ID + `"`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, html.EscapeString(want)) && !strings.Contains(body, want) {
			t.Errorf("the schedules page (%d) lacks %q", resp.StatusCode, want)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", body)
	}
	if resp, _ := b.get("/console/schedules?app=nope"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown app answered %d, want 400", resp.StatusCode)
	}

	csrf := b.csrf()
	for _, step := range []struct {
		action, notice string
		paused         bool
	}{{"pause", "Paused", true}, {"resume", "Resumed", false}} {
		resp, _ = b.post("/console/schedules/"+sc.ID+"/"+step.action, url.Values{"csrf": {csrf}, "back": {"/console/schedules"}})
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/schedules?notice=schedule-") {
			t.Fatalf("%s: %d to %q", step.action, resp.StatusCode, resp.Header.Get("Location"))
		}
		got, err := w.admin.Schedule(ctxT(t), sc.ID)
		if err != nil || got.Paused != step.paused {
			t.Fatalf("after %s the API reports paused=%v (%v), want %v", step.action, got.Paused, err, step.paused)
		}
		_, body = b.get(resp.Header.Get("Location"))
		if !strings.Contains(body, step.notice+":") {
			t.Errorf("after %s the page does not say %q", step.action, step.notice)
		}
		if step.paused && !strings.Contains(body, `class="pill warn">paused`) {
			t.Errorf("the paused schedule is not shown paused")
		}
	}

	// A read-only key: the page without forms; a forged pause is refused.
	v := w.newBrowser(t)
	v.signIn(viewerKey)
	if _, body := v.get("/console/schedules"); !strings.Contains(body, sc.ID) || strings.Contains(body, `method="post" action="/console/schedules/`) {
		t.Errorf("the read-only key's page lacks the schedule or shows forms")
	}
	if resp, _ := v.post("/console/schedules/"+sc.ID+"/pause", url.Values{"csrf": {v.csrf()}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a read-only key's pause answered %d, want 403", resp.StatusCode)
	}
	if resp, _ := b.post("/console/schedules/"+sc.ID+"/pause", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a pause without the CSRF token answered %d, want 403", resp.StatusCode)
	}
	if got, _ := w.admin.Schedule(ctxT(t), sc.ID); got.Paused {
		t.Fatal("a refused post paused the schedule")
	}

	// Delete: gone from the API and the page.
	resp, _ = b.post("/console/schedules/"+sc.ID+"/delete", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	deleted := resp.Header.Get("Location")
	if _, err := w.admin.Schedule(ctxT(t), sc.ID); senderclient.StatusCode(err) != http.StatusNotFound {
		t.Errorf("after delete the API answers %v, want 404", err)
	}
	if _, body := b.get(deleted); strings.Contains(body, "sch-"+sc.ID) || !strings.Contains(body, "Deleted:") {
		t.Errorf("after delete the page still lists the schedule or lacks the notice")
	}
	// An unknown schedule: the API's 404, shown.
	if resp, body := b.post("/console/schedules/sch_nope/pause", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusNotFound ||
		!strings.Contains(body, "The API answered 404") {
		t.Errorf("pausing an unknown schedule: %d %s", resp.StatusCode, body)
	}
}

// The broadcasts page reads GET /v1/broadcasts: every broadcast (not
// only those among the newest messages), newest first, with its state
// and counts; the state filter and a bad filter value.
func TestBroadcastsPage(t *testing.T) {
	w := start(t)
	later := time.Now().Add(time.Hour)
	scheduled, err := w.admin.Broadcast(ctxT(t), senderclient.BroadcastRequest{App: appName, To: []string{alice}, TemplateID: order,
		Data: orderData("Later"), SendAt: &later})
	if err != nil {
		t.Fatal(err)
	}
	now, err := w.admin.Broadcast(ctxT(t), senderclient.BroadcastRequest{App: appName, To: []string{bob, carol}, TemplateID: order,
		Data: orderData("Now")})
	if err != nil {
		t.Fatal(err)
	}
	b := w.newBrowser(t)
	b.signIn(viewerKey)
	resp, body := b.get("/console/broadcasts")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("broadcasts page: %d %s", resp.StatusCode, body)
	}
	i, j := strings.Index(body, `id="bc-`+now.ID+`"`), strings.Index(body, `id="bc-`+scheduled.ID+`"`)
	if i < 0 || j < 0 || i > j {
		t.Fatalf("the page does not list %s then %s (newest first):\n%s", now.ID, scheduled.ID, body)
	}
	if !strings.Contains(body[j:], `scheduled</span>`) {
		t.Errorf("the broadcast due in an hour is not shown scheduled")
	}
	_, body = b.get("/console/broadcasts?state=scheduled&app=" + appName)
	if !strings.Contains(body, scheduled.ID) || strings.Contains(body, now.ID) {
		t.Errorf("state=scheduled lists the wrong broadcasts:\n%s", body)
	}
	if resp, body := b.get("/console/broadcasts?state=finished"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "state must be one of") {
		t.Errorf("a bad state: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/console/broadcasts?id=" + now.ID); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/console/broadcasts/"+now.ID {
		t.Errorf("opening by id: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
