package sender_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
)

// Every /v1 route refuses a caller without the configured key; the health,
// readiness and metrics endpoints answer without one.
func TestAuth(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)

	routes := []struct{ method, path string }{
		{http.MethodPost, "/v1/messages"},
		{http.MethodGet, "/v1/messages"},
		{http.MethodGet, "/v1/messages/msg_x"},
		{http.MethodPost, "/v1/messages/msg_x/retry"},
		{http.MethodPost, "/v1/broadcasts"},
		{http.MethodGet, "/v1/broadcasts/bc_x"},
		{http.MethodPut, "/v1/groups/g"},
		{http.MethodGet, "/v1/groups/g"},
		{http.MethodDelete, "/v1/groups/g"},
	}
	keys := []struct{ name, header string }{
		{"no header", ""},
		{"wrong key", "Bearer not-the-key-at-all"},
		{"key prefix", "Bearer " + testAPIKey[:len(testAPIKey)-1]},
		{"key with suffix", "Bearer " + testAPIKey + "x"},
		{"basic scheme", "Basic " + testAPIKey},
		{"bare key", testAPIKey},
	}
	for _, r := range routes {
		for _, k := range keys {
			t.Run(r.method+" "+r.path+"/"+k.name, func(t *testing.T) {
				var hdr []string
				if k.header != "" {
					hdr = []string{"Authorization", k.header}
				}
				code, b := s.doKey(r.method, r.path, "", `{}`, hdr...)
				if code != http.StatusUnauthorized {
					t.Fatalf("%d %s, want 401", code, b)
				}
				if !strings.Contains(string(b), `"error"`) {
					t.Errorf("401 body %s has no error", b)
				}
			})
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		t.Run(path, func(t *testing.T) {
			code, b := s.doKey(http.MethodGet, path, "", nil)
			if code != http.StatusOK {
				t.Fatalf("%d %s", code, b)
			}
		})
	}
}

// One message: accepted, delivered to the user's inbox with its data and
// page, and its status shows the attempt and the platform's msgid.
func TestSendDelivered(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)

	body := msg(shopApp, users[0], "one-message")
	id := s.send(body)
	got := inbox(t, mock, shopAppID, users[0], 1)
	if len(got) != 1 {
		t.Fatalf("inbox holds %d messages, want 1", len(got))
	}
	in := got[0]
	wantData := body["data"].(map[string]string)
	for k, v := range wantData {
		if in.Data[k] != v {
			t.Errorf("inbox data %s = %q, want %q", k, in.Data[k], v)
		}
	}
	if in.Page != body["page"] || in.TemplateID != tmpl {
		t.Errorf("inbox page %q template %q, want %q %q", in.Page, in.TemplateID, body["page"], tmpl)
	}

	m := s.wait(id, message.StatusDelivered, 10*time.Second)
	if m.PlatformMsgID == "" || m.PlatformMsgID != in.MsgID {
		t.Errorf("platform_msgid %q, inbox msgid %q: want equal and set", m.PlatformMsgID, in.MsgID)
	}
	// The first message of the app fetched its token: the refresh is
	// listed before the send, marked as such.
	if len(m.Attempts) != 2 || m.Attempts[0].Kind != message.KindTokenRefresh || m.Attempts[0].Outcome != message.OutcomeOK ||
		m.Attempts[1].Kind != message.KindSend {
		t.Fatalf("%d attempts, want the token refresh then the send: %+v", len(m.Attempts), m.Attempts)
	}
	a := m.Attempts[1]
	if a.Code != "0" || a.Outcome != message.OutcomeDelivered || a.LatencyMS <= 0 || a.At.IsZero() {
		t.Errorf("attempt %+v, want code 0, outcome delivered, a latency and a time", a)
	}
	if d := time.Since(a.At); d < 0 || d > time.Minute {
		t.Errorf("attempt time %v is not recent", a.At)
	}
	if m.App != shopApp || m.To != users[0] || m.Platform != "wechat" || m.Retries != 0 || m.LastCode != "" {
		t.Errorf("message %+v", m)
	}
}

// The same idempotency key for the same app returns the first message
// (200) and sends once, from the body or the Idempotency-Key header, also
// under concurrent identical requests; another app may use the same key.
func TestIdempotency(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)

	t.Run("body key", func(t *testing.T) {
		body := msg(shopApp, users[0], "idem-body")
		body["idempotency_key"] = "order-1001"
		id := s.send(body)
		code, b := s.do(http.MethodPost, "/v1/messages", body)
		var a accepted
		mustJSON(t, b, &a)
		if code != http.StatusOK || a.ID != id {
			t.Fatalf("repeat: %d %s, want 200 with id %s", code, b, id)
		}
		s.wait(id, message.StatusDelivered, 10*time.Second)
		// Another app may use the same key: a new message.
		other := msg(clubApp, users[0], "idem-body")
		other["idempotency_key"] = "order-1001"
		if id2 := s.send(other); id2 == id {
			t.Fatalf("club got shop's message %s for the same key", id)
		}
		// The same key later, after delivery: still the first message.
		code, b = s.do(http.MethodPost, "/v1/messages", body)
		mustJSON(t, b, &a)
		if code != http.StatusOK || a.ID != id || a.Status != "delivered" {
			t.Fatalf("repeat after delivery: %d %s, want 200 %s delivered", code, b, id)
		}
		if n := countMarker(inbox(t, mock, shopAppID, users[0], 0), "idem-body"); n != 1 {
			t.Fatalf("shop inbox holds the message %d times, want 1", n)
		}
	})

	t.Run("header key", func(t *testing.T) {
		body := msg(shopApp, users[1], "idem-header")
		id := s.send(body, "Idempotency-Key", "order-2002")
		code, b := s.do(http.MethodPost, "/v1/messages", body, "Idempotency-Key", "order-2002")
		var a accepted
		mustJSON(t, b, &a)
		if code != http.StatusOK || a.ID != id {
			t.Fatalf("repeat: %d %s, want 200 %s", code, b, id)
		}
		// The header and the body field name the same key.
		body["idempotency_key"] = "order-2002"
		code, b = s.do(http.MethodPost, "/v1/messages", body)
		mustJSON(t, b, &a)
		if code != http.StatusOK || a.ID != id {
			t.Fatalf("body key after header key: %d %s, want 200 %s", code, b, id)
		}
		// Both, disagreeing: refused.
		code, b = s.do(http.MethodPost, "/v1/messages", body, "Idempotency-Key", "order-other")
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"idempotency_key"`) {
			t.Fatalf("conflicting keys: %d %s, want 422 naming idempotency_key", code, b)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		body := msg(shopApp, users[2], "idem-concurrent")
		body["idempotency_key"] = "order-3003"
		const n = 20
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			codes = map[int]int{}
			ids   = map[string]int{}
		)
		start := make(chan struct{})
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				code, b, err := call(s.URL, http.MethodPost, "/v1/messages", testAPIKey, body)
				var a accepted
				if err == nil {
					_ = json.Unmarshal(b, &a)
				}
				mu.Lock()
				defer mu.Unlock()
				codes[code]++
				ids[a.ID]++
			}()
		}
		close(start)
		wg.Wait()
		if codes[http.StatusAccepted] != 1 || codes[http.StatusOK] != n-1 || len(ids) != 1 {
			t.Fatalf("answers %v, ids %v: want one 202, %d 200, one id", codes, ids, n-1)
		}
		var id string
		for k := range ids {
			id = k
		}
		s.wait(id, message.StatusDelivered, 10*time.Second)
		// Give a stray second send time to land before counting.
		time.Sleep(200 * time.Millisecond)
		if c := countMarker(inbox(t, mock, shopAppID, users[2], 0), "idem-concurrent"); c != 1 {
			t.Fatalf("inbox holds the message %d times, want 1", c)
		}
	})
}

func countMarker(msgs []mockapi.Message, marker string) int {
	n := 0
	for _, m := range msgs {
		if m.Data["character_string3"] == marker {
			n++
		}
	}
	return n
}

// Invalid messages are refused before anything is stored: 422 with
// problems naming the field and the rule; malformed bodies 400; bodies over
// 1 MiB 413.
func TestValidation(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	cfg := testConfig(t, mock.URL)
	cfg.ContentRules = []config.ContentRule{{Name: "no-fake-invoice", Words: []string{"fake-invoice"}}}
	s := startService(t, mock, cfg, nil)

	with := func(f func(m map[string]any)) map[string]any {
		m := msg(shopApp, users[0], "validation")
		f(m)
		return m
	}
	data := func(k, v string) func(map[string]any) {
		return func(m map[string]any) { m["data"].(map[string]string)[k] = v }
	}
	problems := []struct {
		name        string
		body        map[string]any
		field, rule string
	}{
		{"unknown app", with(func(m map[string]any) { m["app"] = "nope" }), "app", "unknown_app"},
		{"no app", with(func(m map[string]any) { delete(m, "app") }), "app", "required"},
		{"empty to", with(func(m map[string]any) { m["to"] = "" }), "to", "required"},
		{"blank to", with(func(m map[string]any) { m["to"] = "   " }), "to", "required"},
		{"no template", with(func(m map[string]any) { delete(m, "template_id") }), "template_id", "required"},
		{"no data", with(func(m map[string]any) { delete(m, "data") }), "data", "required"},
		{"empty data", with(func(m map[string]any) { m["data"] = map[string]string{} }), "data", "required"},
		{"thing over 20", with(data("thing1", strings.Repeat("货", 21))), "data.thing1", "keyword_exceeds_limit"},
		{"bad time", with(data("time2", "tomorrow-ish")), "data.time2", "keyword_invalid"},
		{"empty keyword", with(data("thing1", "")), "data.thing1", "keyword_empty"},
		{"content rule", with(data("thing1", "your FAKE-INVOICE")), "data.thing1", "content:no-fake-invoice"},
		{"long key", with(func(m map[string]any) { m["idempotency_key"] = strings.Repeat("k", 257) }), "idempotency_key", "too_long"},
	}
	for _, tc := range problems {
		t.Run(tc.name, func(t *testing.T) {
			code, b := s.do(http.MethodPost, "/v1/messages", tc.body)
			if code != http.StatusUnprocessableEntity {
				t.Fatalf("%d %s, want 422", code, b)
			}
			var pb problemsBody
			mustJSON(t, b, &pb)
			found := false
			for _, p := range pb.Problems {
				if p.Field == tc.field && p.Rule == tc.rule {
					found = p.Message != ""
				}
			}
			if !found {
				t.Fatalf("problems %s: want {field %q, rule %q, message}", b, tc.field, tc.rule)
			}
		})
	}

	bad := []struct {
		name string
		body string
		code int
		want string
	}{
		{"malformed", `{"app": "shop", "to": }`, http.StatusBadRequest, "malformed JSON"},
		{"truncated", `{"app": "shop"`, http.StatusBadRequest, "JSON"},
		{"unknown field", `{"app":"shop","to":"u","template_id":"t","data":{"thing1":"x"},"colour":"red"}`, http.StatusBadRequest, "colour"},
		{"wrong type", `{"app":"shop","to":["u"]}`, http.StatusBadRequest, `to: want string, got array`},
		{"two objects", `{"app":"shop"} {"app":"shop"}`, http.StatusBadRequest, "exactly one"},
		{"empty", ``, http.StatusBadRequest, "empty body"},
		{"over 1 MiB", `{"app":"shop","to":"` + strings.Repeat("x", 1<<20) + `"}`, http.StatusRequestEntityTooLarge, "limit"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			code, b := s.do(http.MethodPost, "/v1/messages", tc.body)
			if code != tc.code || !strings.Contains(string(b), tc.want) {
				t.Fatalf("%d %s, want %d mentioning %q", code, b, tc.code, tc.want)
			}
		})
	}

	// Nothing refused was stored or sent.
	code, b := s.do(http.MethodGet, "/v1/messages", nil)
	if code != http.StatusOK || strings.Contains(string(b), `"id"`) {
		t.Fatalf("after refusals: %d %s, want no message", code, b)
	}
	// The rule names count in the rejected metric.
	_, text := s.doKey(http.MethodGet, "/metrics", "", nil)
	if v, ok := metric(string(text), "minipush_messages_rejected_total", `rule="content:no-fake-invoice"`); !ok || v != 1 {
		t.Errorf("rejected metric for the content rule = %v (found %v), want 1", v, ok)
	}
	// An unknown app does not become a metric label (callers choose it).
	if strings.Contains(string(text), `app="nope"`) {
		t.Errorf("/metrics has a label from the caller's unknown app name")
	}
}

// A message with send_at in the future waits for it.
func TestSendAt(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)

	at := time.Now().Add(3 * time.Second)
	body := msg(shopApp, users[3], "scheduled")
	body["send_at"] = at.Format(time.RFC3339Nano)
	id := s.send(body)
	time.Sleep(700 * time.Millisecond)
	n, before := len(inbox(t, mock, shopAppID, users[3], 0)), s.get(id)
	// Only reads that ended before send_at say anything about it: at load
	// 16 the POST alone took longer than the 1.5 s this test once gave.
	if time.Now().Before(at) {
		if n != 0 {
			t.Fatalf("%d messages in the inbox before send_at", n)
		}
		if before.Status != message.StatusQueued {
			t.Fatalf("before send_at: status %s, want queued", before.Status)
		}
	} else {
		t.Logf("the reads ended after send_at (a busy machine): only the times of the attempt and the delivery are checked")
	}
	m := s.wait(id, message.StatusDelivered, 10*time.Second)
	if m.Attempts[0].At.Before(at.Truncate(time.Millisecond)) {
		t.Fatalf("attempt at %v, before send_at %v", m.Attempts[0].At, at)
	}
	got := inbox(t, mock, shopAppID, users[3], 1)
	if got[0].ReceivedAt.Before(at) {
		t.Fatalf("received at %v, before send_at %v", got[0].ReceivedAt, at)
	}
}

// Broadcasts to a list and to a group: every recipient gets one message; a
// recipient without a grant fails with 43101 while the others deliver.
func TestBroadcast(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	s := startService(t, mock, testConfig(t, mock.URL), nil)

	bc := func(extra map[string]any) map[string]any {
		b := msg(shopApp, "", "broadcast")
		delete(b, "to")
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	waitCounts := func(id string, want map[message.Status]int) {
		t.Helper()
		var last string
		err := eventually(15*time.Second, func() bool {
			code, b := s.do(http.MethodGet, "/v1/broadcasts/"+id, nil)
			last = string(b)
			if code != http.StatusOK {
				return false
			}
			var got struct {
				Counts map[message.Status]int `json:"counts"`
			}
			mustJSON(t, b, &got)
			for st, n := range want {
				if got.Counts[st] != n {
					return false
				}
			}
			return true
		})
		if err != nil {
			t.Fatalf("broadcast %s: %s, want counts %v", id, last, want)
		}
	}

	t.Run("list", func(t *testing.T) {
		to := []string{users[0], users[1], users[2], noGrant, users[0], " "}
		code, b := s.do(http.MethodPost, "/v1/broadcasts", bc(map[string]any{"to": to,
			"data": map[string]string{"thing1": "list", "time2": "2024-05-01 12:30", "character_string3": "bc-list"}}))
		var a accepted
		mustJSON(t, b, &a)
		if code != http.StatusAccepted || a.ID == "" || a.Recipients != 4 {
			t.Fatalf("%d %s, want 202 with 4 recipients (duplicates and blanks dropped)", code, b)
		}
		waitCounts(a.ID, map[message.Status]int{message.StatusDelivered: 3, message.StatusFailed: 1})
		code, b = s.do(http.MethodGet, query("/v1/messages", "broadcast", a.ID, "status", "failed"), nil)
		var page struct {
			Messages []message.Message `json:"items"`
		}
		mustJSON(t, b, &page)
		if code != http.StatusOK || len(page.Messages) != 1 || page.Messages[0].To != noGrant || page.Messages[0].LastCode != "43101" {
			t.Fatalf("failed messages of the broadcast: %d %s, want %s with 43101", code, b, noGrant)
		}
		for _, u := range users[:3] {
			if n := countMarker(inbox(t, mock, shopAppID, u, 1), "bc-list"); n != 1 {
				t.Errorf("%s received the broadcast %d times", u, n)
			}
		}
	})

	t.Run("group", func(t *testing.T) {
		members := []string{users[3], users[4], users[5]}
		code, b := s.do(http.MethodPut, "/v1/groups/vip", map[string]any{"app": shopApp, "members": members})
		if code != http.StatusOK {
			t.Fatalf("PUT group: %d %s", code, b)
		}
		code, b = s.do(http.MethodGet, query("/v1/groups/vip", "app", shopApp), nil)
		var g struct {
			App     string   `json:"app"`
			Members []string `json:"members"`
		}
		mustJSON(t, b, &g)
		if code != http.StatusOK || fmt.Sprint(g.Members) != fmt.Sprint(members) || g.App != shopApp {
			t.Fatalf("GET group: %d %s, want %v", code, b, members)
		}
		// The group belongs to its app.
		if code, b := s.do(http.MethodGet, query("/v1/groups/vip", "app", clubApp), nil); code != http.StatusNotFound {
			t.Fatalf("GET group of another app: %d %s, want 404", code, b)
		}
		code, b = s.do(http.MethodPost, "/v1/broadcasts", bc(map[string]any{"group": "vip",
			"data": map[string]string{"thing1": "group", "time2": "2024-05-01 12:30", "character_string3": "bc-group"}}))
		var a accepted
		mustJSON(t, b, &a)
		if code != http.StatusAccepted || a.Recipients != len(members) {
			t.Fatalf("broadcast to group: %d %s", code, b)
		}
		waitCounts(a.ID, map[message.Status]int{message.StatusDelivered: len(members)})
		for _, u := range members {
			if n := countMarker(inbox(t, mock, shopAppID, u, 1), "bc-group"); n != 1 {
				t.Errorf("%s received the group broadcast %d times", u, n)
			}
		}

		if code, b := s.do(http.MethodDelete, query("/v1/groups/vip", "app", shopApp), nil); code != http.StatusNoContent {
			t.Fatalf("DELETE group: %d %s", code, b)
		}
		if code, b := s.do(http.MethodGet, query("/v1/groups/vip", "app", shopApp), nil); code != http.StatusNotFound {
			t.Fatalf("GET deleted group: %d %s, want 404", code, b)
		}
		if code, b := s.do(http.MethodDelete, query("/v1/groups/vip", "app", shopApp), nil); code != http.StatusNotFound {
			t.Fatalf("DELETE deleted group: %d %s, want 404", code, b)
		}
		// A broadcast to a missing group is a bad request body, not a
		// missing endpoint.
		code, b = s.do(http.MethodPost, "/v1/broadcasts", bc(map[string]any{"group": "vip"}))
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"group"`) {
			t.Fatalf("broadcast to a deleted group: %d %s, want 422 naming group", code, b)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		for name, body := range map[string]map[string]any{
			"no recipients":  bc(nil),
			"to and group":   bc(map[string]any{"to": []string{users[0]}, "group": "vip"}),
			"only blanks":    bc(map[string]any{"to": []string{" ", ""}}),
			"unknown app":    bc(map[string]any{"to": []string{users[0]}, "app": "nope"}),
			"bad keyword":    bc(map[string]any{"to": []string{users[0]}, "data": map[string]string{"time2": "soon"}}),
			"empty template": bc(map[string]any{"to": []string{users[0]}, "template_id": ""}),
		} {
			t.Run(name, func(t *testing.T) {
				if code, b := s.do(http.MethodPost, "/v1/broadcasts", body); code != http.StatusUnprocessableEntity {
					t.Fatalf("%d %s, want 422", code, b)
				}
			})
		}
		if code, b := s.do(http.MethodGet, "/v1/broadcasts/bc_nope", nil); code != http.StatusNotFound {
			t.Fatalf("unknown broadcast: %d %s, want 404", code, b)
		}
	})
}
