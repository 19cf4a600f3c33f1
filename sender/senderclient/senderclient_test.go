package senderclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/minipush/minipush/internal/openapitest"
	"github.com/minipush/minipush/mockserver/seed"
	"github.com/minipush/minipush/sender/internal/openapi"
	"github.com/minipush/minipush/sender/senderclient"
)

func orderData() map[string]string {
	return map[string]string{"thing1": "Phone case", "character_string2": "SF1234567890", "date3": "2026-11-25", "phrase4": "已发货"}
}

// Every method against a real sender, every call checked against the
// API's document, and together they reach every documented operation: a
// route added to the API without a client method fails here.
func TestEveryOperation(t *testing.T) {
	t.Parallel()
	s := start(t)
	contract := openapitest.Must(t, openapi.Document().YAML())
	routed := *contract.Doc()
	routed.Servers = nil
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reached []openapitest.Route
	record := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if route, _, err := router.FindRoute(r); err == nil {
			mu.Lock()
			reached = append(reached, openapitest.Route{Method: r.Method, Path: route.Path})
			mu.Unlock()
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	hc := &http.Client{Transport: contract.Transport(record), Timeout: 10 * time.Second}
	c, err := senderclient.New(s.url, senderclient.WithAPIKey(apiKey), senderclient.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	if rd, err := c.Ready(ctx); err != nil || !rd.Ready || rd.Status != "ready" {
		t.Fatalf("Ready = %+v, %v", rd, err)
	}
	if doc, err := c.OpenAPI(ctx); err != nil || !strings.Contains(string(doc), `"openapi": "3.1.0"`) {
		t.Fatalf("OpenAPI: %v, %.80s", err, doc)
	}

	a, err := c.Send(ctx, senderclient.MessageRequest{App: app, To: seed.DemoUserAlice, TemplateID: tmpl, Data: orderData(), IdempotencyKey: "k1"})
	if err != nil || a.Status != senderclient.StatusQueued || a.Duplicate {
		t.Fatalf("Send = %+v, %v", a, err)
	}
	again, err := c.Send(ctx, senderclient.MessageRequest{App: app, To: seed.DemoUserAlice, TemplateID: tmpl, Data: orderData(), IdempotencyKey: "k1"})
	if err != nil || again.ID != a.ID || !again.Duplicate {
		t.Fatalf("Send again = %+v, %v; want the first message (%s), marked Duplicate", again, err, a.ID)
	}
	m := waitFinal(t, c, a.ID)
	if m.Status != senderclient.StatusDelivered || len(m.Attempts) == 0 || m.PlatformMsgID == "" {
		t.Fatalf("message %+v, want delivered with its attempts and msgid", m)
	}
	// Bob has no grant for the reminder: a dead letter to redrive.
	dead, err := c.Send(ctx, senderclient.MessageRequest{App: app, To: seed.DemoUserBob, TemplateID: seed.DemoTemplateRemind,
		Data: map[string]string{"name1": "Bob", "time2": "2026-11-25 10:00", "thing3": "Check-up"}})
	if err != nil {
		t.Fatal(err)
	}
	if m := waitFinal(t, c, dead.ID); m.Status != senderclient.StatusFailed {
		t.Fatalf("message to Bob %+v, want failed", m)
	}
	if r, err := c.Retry(ctx, dead.ID); err != nil || r.Status != senderclient.StatusQueued {
		t.Fatalf("Retry = %+v, %v", r, err)
	}
	_, err = c.Retry(ctx, a.ID)
	if senderclient.StatusCode(err) != http.StatusConflict {
		t.Fatalf("Retry of a delivered message: %v, want a 409 *Error", err)
	}
	page, err := c.Messages(ctx, senderclient.MessageFilter{App: app, Limit: 1})
	if err != nil || len(page.Items) != 1 || page.NextCursor == "" {
		t.Fatalf("Messages = %+v, %v; want one and a cursor", page, err)
	}
	var all []string
	for m, err := range c.AllMessages(ctx, senderclient.MessageFilter{App: app, Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, m.ID)
	}
	if !slices.Contains(all, a.ID) || !slices.Contains(all, dead.ID) || len(all) != 2 {
		t.Fatalf("AllMessages = %v, want both messages", all)
	}
	now := time.Now()
	page, err = c.Messages(ctx, senderclient.MessageFilter{App: app, To: seed.DemoUserBob,
		CreatedFrom: now.Add(-time.Hour).In(time.FixedZone("CST", 8*3600)), CreatedTo: now.Add(time.Hour)})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != dead.ID {
		t.Fatalf("Messages to Bob = %+v, %v; want the one to Bob", page, err)
	}
	page, err = c.Messages(ctx, senderclient.MessageFilter{App: app, Reason: senderclient.ReasonCancelled})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("Messages cancelled = %+v, %v; want none yet", page, err)
	}

	// A message's own dedup (docs/campaigns.md): the second is a
	// duplicate of the first, not the first itself.
	d1, err := c.Send(ctx, senderclient.MessageRequest{App: app, To: seed.DemoUserCarol, TemplateID: tmpl, Data: orderData(),
		Dedup: &senderclient.Dedup{Key: "order-1", Window: "1h"}, Urgent: true})
	if err != nil || d1.Status != senderclient.StatusQueued {
		t.Fatalf("Send with dedup = %+v, %v", d1, err)
	}
	d2, err := c.Send(ctx, senderclient.MessageRequest{App: app, To: seed.DemoUserCarol, TemplateID: tmpl, Data: orderData(),
		Dedup: &senderclient.Dedup{Key: "order-1", Window: "1h"}})
	if err != nil || d2.ID == d1.ID || d2.Status != senderclient.StatusRejected || d2.Reason != senderclient.ReasonDuplicate ||
		d2.DuplicateOf != d1.ID || d2.Duplicate {
		t.Fatalf("Send the same dedup key = %+v, %v; want rejected, duplicate of %s", d2, err, d1.ID)
	}

	g, err := c.PutGroup(ctx, app, "vip-early", []string{seed.DemoUserAlice, seed.DemoUserCarol})
	if err != nil || g.Size != 2 || g.Name != "vip-early" {
		t.Fatalf("PutGroup = %+v, %v", g, err)
	}
	gp, err := c.Group(ctx, app, "vip-early", senderclient.GroupPageRequest{Limit: 1})
	if err != nil || gp.Size != 2 || len(gp.Members) != 1 || gp.NextCursor == "" {
		t.Fatalf("Group = %+v, %v; want size 2, one member and a cursor", gp, err)
	}
	b, err := c.Broadcast(ctx, senderclient.BroadcastRequest{App: app, Group: "vip-early", TemplateID: tmpl, Data: orderData()})
	if err != nil || b.Recipients != 2 {
		t.Fatalf("Broadcast = %+v, %v", b, err)
	}
	if st, err := c.BroadcastState(ctx, b.ID); err != nil || st.ID != b.ID || st.Recipients != 2 || len(st.Counts) != 7 || st.State == "" {
		t.Fatalf("BroadcastState = %+v, %v", st, err)
	}
	if l, err := c.Broadcasts(ctx, senderclient.BroadcastFilter{App: app, Limit: 1}); err != nil || len(l.Items) != 1 ||
		l.Items[0].ID != b.ID || l.Items[0].Recipients != 2 || len(l.Items[0].Counts) != 7 || l.Items[0].State == "" {
		t.Fatalf("Broadcasts = %+v, %v; want the newest, %s, with its counts and state", l, err, b.ID)
	}
	if gl, err := c.Groups(ctx, app, senderclient.GroupPageRequest{}); err != nil || len(gl.Items) != 1 || gl.Items[0].Name != "vip-early" {
		t.Fatalf("Groups = %+v, %v", gl, err)
	}
	if err := c.DeleteGroup(ctx, app, "vip-early"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Group(ctx, app, "vip-early", senderclient.GroupPageRequest{}); senderclient.StatusCode(err) != http.StatusNotFound {
		t.Fatalf("Group after delete: %v, want 404", err)
	}
	if cs, err := c.Consents(ctx, senderclient.ConsentFilter{App: app, User: seed.DemoUserAlice, Limit: 10}); err != nil || cs.Items == nil {
		t.Fatalf("Consents = %+v, %v", cs, err)
	}
	apps, err := c.Apps(ctx)
	if err != nil || len(apps) != 1 || apps[0].Name != app || apps[0].Paused() || apps[0].Queue[senderclient.StatusDelivered] < 1 {
		t.Fatalf("Apps = %+v, %v", apps, err)
	}
	if a, err := c.App(ctx, app); err != nil || a.TokenValidUntil == nil || !a.Healthy {
		t.Fatalf("App = %+v, %v; want a token and healthy", a, err)
	}
	if a, err := c.ResumeApp(ctx, app); err != nil || a.Paused() {
		t.Fatalf("ResumeApp = %+v, %v", a, err)
	}
	later := time.Now().Add(time.Hour)
	scheduled, err := c.Send(ctx, senderclient.MessageRequest{App: app, To: seed.DemoUserAlice, TemplateID: tmpl, Data: orderData(), SendAt: &later})
	if err != nil || !scheduled.SendAt.Equal(later.Truncate(time.Millisecond)) && !scheduled.SendAt.Equal(later) {
		t.Fatalf("scheduled Send = %+v, %v; want send_at echoed", scheduled, err)
	}
	if m, err := c.Cancel(ctx, scheduled.ID); err != nil || m.Status != senderclient.StatusCancelled || m.Reason != senderclient.ReasonCancelled {
		t.Fatalf("Cancel = %+v, %v", m, err)
	}
	if _, err := c.Send(ctx, senderclient.MessageRequest{App: app, To: seed.DemoUserAlice, TemplateID: tmpl, Data: orderData(),
		SendAt: &later}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.CancelMessages(ctx, senderclient.Selection{App: app, Status: []string{senderclient.StatusQueued}}); err != nil || n != 1 {
		t.Fatalf("CancelMessages = %d, %v; want the second scheduled one", n, err)
	}
	if n, err := c.RetryMessages(ctx, senderclient.Selection{App: app, Reason: senderclient.ReasonCancelled}); err != nil || n != 2 {
		t.Fatalf("RetryMessages = %d, %v; want both cancelled ones", n, err)
	}
	// The delivered message's result webhook reached the stack's receiver.
	var hook senderclient.WebhookDelivery
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		p, err := c.WebhookDeliveries(ctx, senderclient.WebhookFilter{MessageID: a.ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > 0 && p.Items[len(p.Items)-1].Status == senderclient.WebhookSucceeded {
			hook = p.Items[len(p.Items)-1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("WebhookDeliveries(%s) = %+v; want its delivery succeeded", a.ID, p)
		}
	}
	if hook.Event != senderclient.EventDelivered || hook.AttemptCount != 1 || s.hooks.Load() < 1 {
		t.Fatalf("delivery %+v (receiver verified %d); want message.delivered in one attempt", hook, s.hooks.Load())
	}
	if d, err := c.WebhookDelivery(ctx, hook.ID); err != nil || d.ID != hook.ID || len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 204 {
		t.Fatalf("WebhookDelivery = %+v, %v", d, err)
	}
	if _, err := c.RedeliverWebhook(ctx, hook.ID); senderclient.StatusCode(err) != http.StatusConflict {
		t.Fatalf("RedeliverWebhook of a succeeded delivery: %v, want a 409 *Error", err)
	}
	if text, err := c.Metrics(ctx); err != nil || !strings.Contains(text, "# TYPE") {
		t.Fatalf("Metrics: %v, %.80s", err, text)
	}

	// CSV audiences: one good row and one bad; then the stored audience
	// as a group, and a refused upload's report.
	csvText := "to,thing1\n" + seed.DemoUserAlice + ",CSV case\n,no one\n"
	cb, err := c.BroadcastCSV(ctx, senderclient.CSVBroadcastRequest{App: app, TemplateID: tmpl, Data: orderData(), Group: "csv-aud"},
		strings.NewReader(csvText))
	if err != nil || cb.Recipients != 1 || cb.CSV == nil || cb.CSV.Rejected != 1 || cb.CSV.Errors[0].Line != 3 || cb.CSV.Errors[0].Field != "to" {
		t.Fatalf("BroadcastCSV = %+v, %v; want 1 recipient and the bad row at line 3", cb, err)
	}
	one := 0
	_, err = c.PutGroupCSV(ctx, app, "csv-strict", senderclient.CSVOptions{OnError: senderclient.OnErrorReject, MaxBadRows: &one},
		strings.NewReader(csvText))
	if !errors.As(err, new(*senderclient.Error)) || senderclient.StatusCode(err) != http.StatusUnprocessableEntity {
		t.Fatalf("PutGroupCSV reject = %v, want 422", err)
	}
	var csvErr *senderclient.Error
	if errors.As(err, &csvErr); csvErr.CSV == nil || csvErr.CSV.Rejected != 1 {
		t.Fatalf("refused upload's report = %+v", csvErr.CSV)
	}
	if g, err := c.PutGroupCSV(ctx, app, "csv-ok", senderclient.CSVOptions{}, strings.NewReader("to,thing1\n"+seed.DemoUserCarol+",x\n")); err != nil || g.Size != 1 || g.CSV == nil {
		t.Fatalf("PutGroupCSV = %+v, %v", g, err)
	}

	// Schedules: create, read, list, pause, resume, delete.
	sc, err := c.CreateSchedule(ctx, senderclient.ScheduleRequest{App: app, Cron: "0 9 * * 1", TimeZone: "Asia/Shanghai",
		Group: "csv-ok", TemplateID: tmpl, Data: orderData()})
	if err != nil || sc.ID == "" || sc.NextRunAt.IsZero() || sc.CatchUp != senderclient.CatchUpLast || sc.CatchUpWithin != "1h0m0s" {
		t.Fatalf("CreateSchedule = %+v, %v", sc, err)
	}
	if got, err := c.Schedule(ctx, sc.ID); err != nil || got.ID != sc.ID || got.Runs == nil {
		t.Fatalf("Schedule = %+v, %v", got, err)
	}
	if l, err := c.Schedules(ctx, app, senderclient.GroupPageRequest{}); err != nil || len(l.Items) != 1 {
		t.Fatalf("Schedules = %+v, %v", l, err)
	}
	if p, err := c.PauseSchedule(ctx, sc.ID); err != nil || !p.Paused {
		t.Fatalf("PauseSchedule = %+v, %v", p, err)
	}
	if p, err := c.ResumeSchedule(ctx, sc.ID); err != nil || p.Paused {
		t.Fatalf("ResumeSchedule = %+v, %v", p, err)
	}
	if err := c.DeleteSchedule(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Schedule(ctx, sc.ID); senderclient.StatusCode(err) != http.StatusNotFound {
		t.Fatalf("Schedule after delete: %v, want 404", err)
	}

	_, err = c.Send(ctx, senderclient.MessageRequest{App: app, TemplateID: tmpl, Data: map[string]string{"thing1": strings.Repeat("长", 21)}})
	var apiErr *senderclient.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a bad message: %v, want a 422 *Error", err)
	}
	if _, ok := apiErr.Problem("to"); !ok {
		t.Errorf("problems %+v do not name to", apiErr.Problems)
	}
	if _, ok := apiErr.Problem("data.thing1"); !ok {
		t.Errorf("problems %+v do not name data.thing1", apiErr.Problems)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, op := range contract.Documented() {
		if contract.Doc().Paths.Find(op.Path).GetOperation(op.Method).Extensions["x-caller"] == "platform" {
			continue // the platforms call it, not clients
		}
		if !slices.Contains(reached, op) {
			t.Errorf("no client method reached %s: add one (and call it here)", op)
		}
	}
}

// waitFinal polls a message until it is final.
func waitFinal(t *testing.T, c *senderclient.Client, id string) senderclient.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := c.Message(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Final() {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s still %s after 10 s", id, m.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// flaky answers the first n calls with status (and Retry-After when
// retryAfter is set), then 202.
func flaky(n int32, status int, retryAfter string) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if calls.Add(1) <= n {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":"busy"}`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"id":"msg_1","status":"queued"}`)
	}))
	return hs, &calls
}

// 429 and 503 are retried after Retry-After (or the backoff without one),
// up to the policy's attempts; a Retry-After past MaxWait is not waited for.
func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	quick := senderclient.RetryPolicy{Attempts: 3, Backoff: time.Millisecond, MaxWait: 2 * time.Second}
	tests := []struct {
		name       string
		failures   int32
		status     int
		retryAfter string
		policy     senderclient.RetryPolicy
		wantCalls  int32
		wantStatus int // 0: success
		minWait    time.Duration
	}{
		{"429 then accepted", 2, 429, "", quick, 3, 0, 0},
		{"503 then accepted", 1, 503, "", quick, 2, 0, 0},
		{"Retry-After honoured", 1, 429, "1", quick, 2, 0, time.Second},
		{"too many failures", 5, 503, "", quick, 3, 503, 0},
		{"Retry-After past MaxWait", 1, 429, "60", quick, 1, 429, 0},
		{"no retry", 1, 503, "", senderclient.NoRetry, 1, 503, 0},
		{"400 is not retried", 1, 400, "", quick, 1, 400, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hs, calls := flaky(tc.failures, tc.status, tc.retryAfter)
			defer hs.Close()
			c, err := senderclient.New(hs.URL, senderclient.WithRetry(tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			began := time.Now()
			_, err = c.Send(context.Background(), senderclient.MessageRequest{App: app})
			if got := senderclient.StatusCode(err); got != tc.wantStatus {
				t.Fatalf("status %d (%v), want %d", got, err, tc.wantStatus)
			}
			if calls.Load() != tc.wantCalls {
				t.Errorf("%d calls, want %d", calls.Load(), tc.wantCalls)
			}
			if waited := time.Since(began); waited < tc.minWait {
				t.Errorf("retried after %v, before the Retry-After of %v", waited, tc.minWait)
			}
			var apiErr *senderclient.Error
			if tc.retryAfter != "" && errors.As(err, &apiErr) {
				if want, _ := time.ParseDuration(tc.retryAfter + "s"); apiErr.RetryAfter != want {
					t.Errorf("RetryAfter %v, want %v", apiErr.RetryAfter, want)
				}
			}
		})
	}
}

// A context that ends while the client waits to retry ends the call.
func TestRetryWaitEndsWithTheContext(t *testing.T) {
	t.Parallel()
	hs, calls := flaky(10, 503, "5")
	defer hs.Close()
	c, _ := senderclient.New(hs.URL, senderclient.WithRetry(senderclient.RetryPolicy{Attempts: 5, MaxWait: time.Minute}))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Send(ctx, senderclient.MessageRequest{App: app})
	if !errors.Is(err, context.DeadlineExceeded) || senderclient.StatusCode(err) != 503 {
		t.Fatalf("err %v, want the 503 and the context's deadline", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls, want 1", calls.Load())
	}
}

// An answer that is not the API's error shape (a proxy's page) still makes
// an *Error, with the text as its message.
func TestForeignErrorBody(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html>bad gateway</html>")
	}))
	defer hs.Close()
	c, _ := senderclient.New(hs.URL)
	_, err := c.Message(context.Background(), "msg_1")
	var apiErr *senderclient.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadGateway || !strings.Contains(apiErr.Message, "bad gateway") {
		t.Fatalf("err %#v", err)
	}
}

func TestNewRefusesBadURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "127.0.0.1:9200", "ftp://host", "http://"} {
		if _, err := senderclient.New(u); err == nil {
			t.Errorf("New(%q): no error", u)
		}
	}
}
