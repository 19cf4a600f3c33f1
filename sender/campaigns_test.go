package sender_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/sender"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
)

// testClock is the sender's clock in these tests: moved, never slept on.
type testClock struct{ ns atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *testClock) Now() time.Time        { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Set(t time.Time)       { c.ns.Store(t.UnixNano()) }
func (c *testClock) Add(d time.Duration)   { c.ns.Add(int64(d)) }
func shanghai(t testing.TB) *time.Location { return mustLoc(t, "Asia/Shanghai") }
func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// campaignService is a sender whose shop app has c as campaign rules and
// whose clock is clk.
func campaignService(t *testing.T, c config.Campaigns, clk *testClock) *svc {
	t.Helper()
	mock := startMock(t)
	cfg := testConfig(t, mock.URL)
	cfg.Apps[0].Campaigns = &c
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return startServiceWith(t, mock, cfg, nil, sender.WithClock(clk.Now))
}

// post posts a message body and answers the stored message (202).
func (s *svc) post(body map[string]any) message.Message {
	s.t.Helper()
	code, b := s.do(http.MethodPost, "/v1/messages", body)
	if code != http.StatusAccepted {
		s.t.Fatalf("POST /v1/messages: %d %s", code, b)
	}
	var m message.Message
	mustJSON(s.t, b, &m)
	return m
}

// TestCampaignDedupHTTP: the app's dedup window over HTTP — a second
// message of the same user and template is rejected as a duplicate of the
// first, a message's own dedup key tells orders apart, an idempotency key
// is something else, and concurrent requests accept exactly one.
func TestCampaignDedupHTTP(t *testing.T) {
	t.Parallel()
	clk := newTestClock(time.Date(2030, 1, 2, 4, 0, 0, 0, time.UTC)) // 12:00 in Shanghai
	s := campaignService(t, config.Campaigns{Dedup: &config.Dedup{Window: time.Hour}}, clk)
	first := s.post(msg(shopApp, users[0], "d1"))
	if first.Status != message.StatusQueued {
		t.Fatalf("first: %+v", first)
	}
	second := s.post(msg(shopApp, users[0], "d2"))
	if second.Status != message.StatusRejected || second.Reason != reason.Duplicate || second.DuplicateOf != first.ID {
		t.Errorf("second: status %s reason %q duplicate_of %q, want rejected duplicate of %s", second.Status, second.Reason, second.DuplicateOf, first.ID)
	}
	if got := s.get(second.ID); got.DuplicateOf != first.ID || len(got.Attempts) != 0 {
		t.Errorf("stored duplicate: duplicate_of %q, %d attempts", got.DuplicateOf, len(got.Attempts))
	}
	// Its own key: another order; its own window.
	keyed := msg(shopApp, users[0], "d3")
	keyed["dedup"] = map[string]any{"key": "order-3", "window": "10m"}
	if m := s.post(keyed); m.Status != message.StatusQueued {
		t.Errorf("another dedup key: %s %q", m.Status, m.Reason)
	}
	if m := s.post(keyed); m.Reason != reason.Duplicate {
		t.Errorf("the same dedup key again: %s %q", m.Status, m.Reason)
	}
	clk.Add(11 * time.Minute)
	if m := s.post(keyed); m.Status != message.StatusQueued {
		t.Errorf("after its 10m window: %s %q", m.Status, m.Reason)
	}
	// An idempotency key answers the first message itself (200), not a
	// duplicate.
	idem := msg(shopApp, users[1], "i1")
	idem["idempotency_key"] = "retry-1"
	a := s.post(idem)
	code, b := s.do(http.MethodPost, "/v1/messages", idem)
	var again message.Message
	mustJSON(t, b, &again)
	if code != http.StatusOK || again.ID != a.ID || again.Status == message.StatusRejected {
		t.Errorf("idempotent retry: %d id %s status %s, want 200 with %s", code, again.ID, again.Status, a.ID)
	}
	// Concurrent: exactly one of many.
	const n = 24
	out := make([]message.Message, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			code, b, err := callWith(s.client, s.URL, http.MethodPost, "/v1/messages", testAPIKey, msg(shopApp, users[2], fmt.Sprint("c", i)))
			if err != nil || code != http.StatusAccepted {
				t.Errorf("concurrent %d: %d %s %v", i, code, b, err)
				return
			}
			_ = json.Unmarshal(b, &out[i])
		})
	}
	wg.Wait()
	queued := 0
	for _, m := range out {
		if m.Status == message.StatusQueued {
			queued++
		} else if m.Reason != reason.Duplicate {
			t.Errorf("concurrent: status %s reason %q", m.Status, m.Reason)
		}
	}
	if queued != 1 {
		t.Errorf("%d of %d concurrent messages accepted, want exactly 1", queued, n)
	}
	// Bad settings are named.
	bad := msg(shopApp, users[3], "b")
	bad["dedup"] = map[string]any{"window": "forever"}
	if code, b := s.do(http.MethodPost, "/v1/messages", bad); code != http.StatusUnprocessableEntity || !json.Valid(b) ||
		!containsProblem(b, "dedup.window") {
		t.Errorf("a bad dedup.window: %d %s", code, b)
	}
	s.wait(first.ID, message.StatusDelivered, 20*time.Second)
	_, text := s.do(http.MethodGet, "/metrics", nil)
	if v, _ := metric(string(text), "minipush_campaign_rejected_total", `app="shop"`, `rule="duplicate"`); v != n-1+2 {
		t.Errorf("minipush_campaign_rejected_total{rule=duplicate} = %v, want %d", v, n-1+2)
	}
}

func containsProblem(b []byte, field string) bool {
	var e struct {
		Problems []struct{ Field string } `json:"problems"`
	}
	if json.Unmarshal(b, &e) != nil {
		return false
	}
	for _, p := range e.Problems {
		if p.Field == field {
			return true
		}
	}
	return false
}

// TestCampaignQuietHoursHTTP: a message at 23:00 in Shanghai is held to
// 08:00 plus its place in the ramp, shows why, and is delivered once the
// clock gets there; an urgent one goes at once.
func TestCampaignQuietHoursHTTP(t *testing.T) {
	t.Parallel()
	sh := shanghai(t)
	clk := newTestClock(time.Date(2030, 1, 2, 23, 0, 0, 0, sh))
	s := campaignService(t, config.Campaigns{QuietHours: &config.QuietHours{Start: "22:00", End: "08:00", Ramp: 20 * time.Minute}}, clk)
	end := time.Date(2030, 1, 3, 8, 0, 0, 0, sh)
	var held []message.Message
	for i := range 5 {
		m := s.post(msg(shopApp, users[i], fmt.Sprint("q", i)))
		if m.Status != message.StatusQueued || m.HeldReason != message.HeldQuietHours ||
			m.NextAttemptAt.Before(end) || !m.NextAttemptAt.Before(end.Add(20*time.Minute)) {
			t.Fatalf("held message: status %s held_reason %q next_attempt_at %v, want queued, quiet_hours, in [%v, +20m)",
				m.Status, m.HeldReason, m.NextAttemptAt, end.UTC())
		}
		held = append(held, m)
	}
	urgent := msg(shopApp, users[5], "u")
	urgent["urgent"] = true
	u := s.post(urgent)
	if u.HeldReason != "" {
		t.Errorf("urgent message held: %q", u.HeldReason)
	}
	s.wait(u.ID, message.StatusDelivered, 20*time.Second)
	// A moment before the earliest is due: nothing went.
	earliest := held[0].NextAttemptAt
	for _, m := range held[1:] {
		if m.NextAttemptAt.Before(earliest) {
			earliest = m.NextAttemptAt
		}
	}
	clk.Set(earliest.Add(-time.Second))
	// An urgent message delivered at that clock: the dispatcher has
	// claimed since the move, and left the held ones alone.
	urgent["data"].(map[string]string)["character_string3"] = "u2"
	s.wait(s.post(urgent).ID, message.StatusDelivered, 20*time.Second)
	for _, m := range held {
		if got := s.get(m.ID); got.Status != message.StatusQueued {
			t.Errorf("%s before its time: %s", m.ID, got.Status)
		}
	}
	clk.Set(end.Add(20 * time.Minute))
	for _, m := range held {
		got := s.wait(m.ID, message.StatusDelivered, 20*time.Second)
		if got.HeldReason != message.HeldQuietHours {
			t.Errorf("delivered message lost its held_reason: %q", got.HeldReason)
		}
	}
	_, text := s.do(http.MethodGet, "/metrics", nil)
	if v, _ := metric(string(text), "minipush_campaign_held_total", `app="shop"`, `rule="quiet_hours"`); v != 5 {
		t.Errorf("minipush_campaign_held_total{rule=quiet_hours} = %v, want 5", v)
	}
}

// TestCampaignFrequencyCapHTTP: a day cap of 2 rejects the third message
// of a user (on_exceed reject), or holds it to the next day (hold); the
// app's rules show in GET /v1/apps/{name}.
func TestCampaignFrequencyCapHTTP(t *testing.T) {
	t.Parallel()
	sh := shanghai(t)
	for _, mode := range []string{config.OnExceedReject, config.OnExceedHold} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			clk := newTestClock(time.Date(2030, 1, 2, 12, 0, 0, 0, sh))
			s := campaignService(t, config.Campaigns{OnExceed: mode,
				FrequencyCaps: []config.FrequencyCap{{Period: config.PeriodDay, Limit: 2}}}, clk)
			for i := range 2 {
				if m := s.post(msg(shopApp, users[0], fmt.Sprint("f", i))); m.Status != message.StatusQueued || m.HeldReason != "" {
					t.Fatalf("message %d: %s %q", i, m.Status, m.HeldReason)
				}
			}
			third := s.post(msg(shopApp, users[0], "f3"))
			other := s.post(msg(shopApp, users[1], "f4"))
			if other.Status != message.StatusQueued || other.HeldReason != "" {
				t.Errorf("another user: %s %q", other.Status, other.HeldReason)
			}
			if mode == config.OnExceedReject {
				if third.Status != message.StatusRejected || third.Reason != reason.FrequencyCap {
					t.Errorf("third: %s %q, want rejected frequency_cap", third.Status, third.Reason)
				}
			} else {
				next := time.Date(2030, 1, 3, 0, 0, 0, 0, sh)
				if third.Status != message.StatusQueued || third.HeldReason != message.HeldFrequencyCap || !third.NextAttemptAt.Equal(next) {
					t.Errorf("third: %s held %q at %v, want queued, frequency_cap, %v", third.Status, third.HeldReason, third.NextAttemptAt, next.UTC())
				}
				clk.Set(next)
				s.wait(third.ID, message.StatusDelivered, 20*time.Second)
				// It took a slot of the next day: one is left.
				if m := s.post(msg(shopApp, users[0], "f5")); m.HeldReason != "" {
					t.Errorf("next day, second message: held %q", m.HeldReason)
				}
				if m := s.post(msg(shopApp, users[0], "f6")); m.HeldReason != message.HeldFrequencyCap {
					t.Errorf("next day, third message: held %q, want frequency_cap", m.HeldReason)
				}
			}
			code, b := s.do(http.MethodGet, "/v1/apps/"+shopApp, nil)
			var app struct {
				Campaigns struct {
					TimeZone      string                `json:"time_zone"`
					OnExceed      string                `json:"on_exceed"`
					FrequencyCaps []config.FrequencyCap `json:"frequency_caps"`
				} `json:"campaigns"`
			}
			mustJSON(t, b, &app)
			if code != http.StatusOK || app.Campaigns.TimeZone != "Asia/Shanghai" || app.Campaigns.OnExceed != mode ||
				len(app.Campaigns.FrequencyCaps) != 1 || app.Campaigns.FrequencyCaps[0].Limit != 2 {
				t.Errorf("GET /v1/apps/shop campaigns: %d %s", code, b)
			}
		})
	}
}

// TestCampaignBroadcastHTTP: a list broadcast's messages are admitted one
// by one — a recipient who already got the template within the dedup
// window gets a duplicate, the others are held by quiet hours, each at its
// own place in the ramp — and a group broadcast is held as a whole.
func TestCampaignBroadcastHTTP(t *testing.T) {
	t.Parallel()
	sh := shanghai(t)
	clk := newTestClock(time.Date(2030, 1, 2, 21, 0, 0, 0, sh))
	s := campaignService(t, config.Campaigns{Dedup: &config.Dedup{Window: 12 * time.Hour},
		QuietHours: &config.QuietHours{Start: "22:00", End: "08:00", Ramp: 30 * time.Minute}}, clk)
	first := s.post(msg(shopApp, users[0], "bc0"))
	clk.Set(time.Date(2030, 1, 2, 23, 0, 0, 0, sh))
	body := msg(shopApp, "", "bc1")
	delete(body, "to")
	body["to"] = []string{users[0], users[1], users[2], users[3]}
	code, b := s.do(http.MethodPost, "/v1/broadcasts", body)
	if code != http.StatusAccepted {
		t.Fatalf("POST /v1/broadcasts: %d %s", code, b)
	}
	var bc struct {
		ID string `json:"id"`
	}
	mustJSON(t, b, &bc)
	code, b = s.do(http.MethodGet, query("/v1/messages", "broadcast", bc.ID, "limit", "10"), nil)
	var page struct {
		Items []message.Message `json:"items"`
	}
	mustJSON(t, b, &page)
	if code != http.StatusOK || len(page.Items) != 4 {
		t.Fatalf("the broadcast's messages: %d %s", code, b)
	}
	end := time.Date(2030, 1, 3, 8, 0, 0, 0, sh)
	dues := map[time.Time]bool{}
	for _, m := range page.Items {
		if m.To == users[0] {
			if m.Status != message.StatusRejected || m.Reason != reason.Duplicate || m.DuplicateOf != first.ID {
				t.Errorf("%s: %s %q duplicate_of %q, want a duplicate of %s", m.To, m.Status, m.Reason, m.DuplicateOf, first.ID)
			}
			continue
		}
		if m.Status != message.StatusQueued || m.HeldReason != message.HeldQuietHours ||
			m.NextAttemptAt.Before(end) || !m.NextAttemptAt.Before(end.Add(30*time.Minute)) {
			t.Errorf("%s: %s held %q at %v, want held to 08:00 + ramp", m.To, m.Status, m.HeldReason, m.NextAttemptAt)
		}
		dues[m.NextAttemptAt] = true
	}
	if len(dues) < 2 {
		t.Errorf("the held messages share one due time %v: the ramp spreads them", dues)
	}
	// A group broadcast: held as a whole.
	if code, b := s.do(http.MethodPut, "/v1/groups/night?app="+shopApp, map[string]any{"members": users[4:]}); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("PUT group: %d %s", code, b)
	}
	gb := msg(shopApp, "", "bc2")
	delete(gb, "to")
	gb["group"] = "night"
	code, b = s.do(http.MethodPost, "/v1/broadcasts", gb)
	var g struct {
		SendAt time.Time `json:"send_at"`
	}
	mustJSON(t, b, &g)
	if code != http.StatusAccepted || g.SendAt.Before(end) || !g.SendAt.Before(end.Add(30*time.Minute)) {
		t.Errorf("group broadcast at night: %d send_at %v, want held to 08:00 + ramp", code, g.SendAt)
	}
	gb["dedup"] = map[string]any{"key": "x", "window": "1h"}
	gb["page"] = "pages/order/detail?id=bc3"
	if code, b := s.do(http.MethodPost, "/v1/broadcasts", gb); code != http.StatusAccepted {
		t.Errorf("dedup on a group broadcast: %d %s, want 202 (applied to each member at the fan-out)", code, b)
	}
	gb["dedup"] = map[string]any{"window": "forever"}
	if code, b := s.do(http.MethodPost, "/v1/broadcasts", gb); code != http.StatusUnprocessableEntity || !containsProblem(b, "dedup.window") {
		t.Errorf("a bad dedup.window on a group broadcast: %d %s, want 422 naming dedup.window", code, b)
	}
	clk.Set(end.Add(30 * time.Minute))
	for _, m := range page.Items {
		if m.To != users[0] {
			s.wait(m.ID, message.StatusDelivered, 20*time.Second)
		}
	}
}

// broadcastOutcome waits until broadcast id is fanned out and answers its
// messages by recipient.
func (s *svc) broadcastOutcome(id string, n int) map[string]message.Message {
	s.t.Helper()
	if err := eventually(30*time.Second, func() bool {
		_, raw := s.do(http.MethodGet, "/v1/broadcasts/"+id, nil)
		var st struct {
			FannedOut int `json:"fanned_out"`
		}
		mustJSON(s.t, raw, &st)
		return st.FannedOut == n
	}); err != nil {
		s.t.Fatalf("fan-out of broadcast %s: %v", id, err)
	}
	code, b := s.do(http.MethodGet, query("/v1/messages", "broadcast", id, "limit", "100"), nil)
	var page struct {
		Items []message.Message `json:"items"`
	}
	mustJSON(s.t, b, &page)
	if code != http.StatusOK || len(page.Items) != n {
		s.t.Fatalf("the messages of broadcast %s: %d %s, want %d", id, code, b, n)
	}
	out := map[string]message.Message{}
	for _, m := range page.Items {
		out[m.To] = m
	}
	return out
}

// broadcastCounts answers GET /v1/broadcasts/{id}'s counts.
func (s *svc) broadcastCounts(id string) map[message.Status]int {
	s.t.Helper()
	_, raw := s.do(http.MethodGet, "/v1/broadcasts/"+id, nil)
	var st struct {
		Counts map[message.Status]int `json:"counts"`
	}
	mustJSON(s.t, raw, &st)
	return st.Counts
}

// TestCampaignGroupBroadcastHTTP: dedup and frequency caps apply to each
// member of a group broadcast as it is fanned out, and to each row of a
// CSV broadcast: a member who got the template within the window gets a
// rejected duplicate pointing at it, one at the cap a rejected
// frequency_cap message, counted in the broadcast's counts; a group
// broadcast's own dedup key tells campaigns apart.
func TestCampaignGroupBroadcastHTTP(t *testing.T) {
	t.Parallel()
	clk := newTestClock(time.Date(2030, 1, 2, 4, 0, 0, 0, time.UTC)) // 12:00 in Shanghai
	s := campaignService(t, config.Campaigns{Dedup: &config.Dedup{Window: time.Hour},
		FrequencyCaps: []config.FrequencyCap{{Period: config.PeriodDay, Limit: 2}}}, clk)
	first := s.post(msg(shopApp, users[0], "g0"))
	for _, k := range []string{"a", "b"} { // users[1] at the day's cap
		m := msg(shopApp, users[1], "g1"+k)
		m["dedup"] = map[string]any{"key": k}
		if got := s.post(m); got.Status != message.StatusQueued {
			t.Fatalf("users[1] %s: %s %q", k, got.Status, got.Reason)
		}
	}
	if code, b := s.do(http.MethodPut, "/v1/groups/fans?app="+shopApp, map[string]any{"members": users[:4]}); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("PUT group: %d %s", code, b)
	}
	group := func(marker string, dedup map[string]any) string {
		t.Helper()
		gb := msg(shopApp, "", marker)
		delete(gb, "to")
		gb["group"] = "fans"
		if dedup != nil {
			gb["dedup"] = dedup
		}
		code, b := s.do(http.MethodPost, "/v1/broadcasts", gb)
		var bc struct {
			ID string `json:"id"`
		}
		mustJSON(t, b, &bc)
		if code != http.StatusAccepted {
			t.Fatalf("group broadcast %s: %d %s", marker, code, b)
		}
		return bc.ID
	}
	// The app's window, no key.
	bc1 := group("gb1", nil)
	ms := s.broadcastOutcome(bc1, 4)
	if m := ms[users[0]]; m.Status != message.StatusRejected || m.Reason != reason.Duplicate || m.DuplicateOf != first.ID {
		t.Errorf("users[0]: %s %q duplicate_of %q, want a duplicate of %s", m.Status, m.Reason, m.DuplicateOf, first.ID)
	}
	if m := ms[users[1]]; m.Status != message.StatusRejected || m.Reason != reason.FrequencyCap {
		t.Errorf("users[1]: %s %q, want rejected frequency_cap", m.Status, m.Reason)
	}
	for _, u := range users[2:4] {
		s.wait(ms[u].ID, message.StatusDelivered, 20*time.Second)
	}
	if c := s.broadcastCounts(bc1); c[message.StatusRejected] != 2 || c[message.StatusDelivered] != 2 {
		t.Errorf("broadcast counts %v, want 2 rejected, 2 delivered", c)
	}
	// The broadcast's own key: another campaign, not a duplicate of the
	// first; the same key again is.
	bc2 := group("gb2", map[string]any{"key": "spring"})
	ms2 := s.broadcastOutcome(bc2, 4)
	for _, u := range []string{users[0], users[2], users[3]} {
		if m := ms2[u]; m.Status == message.StatusRejected {
			t.Errorf("%s under its own key: rejected %q", u, m.Reason)
		}
	}
	if m := ms2[users[1]]; m.Reason != reason.FrequencyCap {
		t.Errorf("users[1] under its own key: %s %q, want frequency_cap", m.Status, m.Reason)
	}
	bc3 := group("gb3", map[string]any{"key": "spring"})
	ms3 := s.broadcastOutcome(bc3, 4)
	for _, u := range []string{users[0], users[2], users[3]} {
		if m := ms3[u]; m.Reason != reason.Duplicate || m.DuplicateOf != ms2[u].ID {
			t.Errorf("%s again under spring: %s %q duplicate_of %q, want a duplicate of %s", u, m.Status, m.Reason, m.DuplicateOf, ms2[u].ID)
		}
	}
	// A CSV broadcast: each row admitted as it is fanned out. users[2]
	// and users[3] are at the day's cap (gb1, gb2) — so is users[0]
	// (g0, gb2); users[4] and users[5] are new.
	csv := "to,character_string3\n" + users[2] + ",c2\n" + users[4] + ",c4\n" + users[5] + ",c5\n"
	path := csvQuery("app", shopApp, "template_id", tmpl, "dedup_key", "spring",
		"data", `{"thing1":"大促","time2":"2024-05-01 12:30"}`)
	code, raw := s.do(http.MethodPost, path, csv, "Content-Type", "text/csv")
	if code != http.StatusAccepted {
		t.Fatalf("POST CSV: %d %s", code, raw)
	}
	var ca csvAnswer
	mustJSON(t, raw, &ca)
	mc := s.broadcastOutcome(ca.ID, 3)
	if m := mc[users[2]]; m.Reason != reason.Duplicate || m.DuplicateOf != ms2[users[2]].ID {
		t.Errorf("CSV row users[2]: %s %q duplicate_of %q, want a duplicate of %s", m.Status, m.Reason, m.DuplicateOf, ms2[users[2]].ID)
	}
	for u, own := range map[string]string{users[4]: "c4", users[5]: "c5"} {
		if m := s.wait(mc[u].ID, message.StatusDelivered, 20*time.Second); m.Data["character_string3"] != own {
			t.Errorf("CSV row %s: data %v, want its own character_string3 %s", u, m.Data, own)
		}
	}
	if code, b := s.do(http.MethodPost, csvQuery("app", shopApp, "template_id", tmpl, "dedup_window", "forever",
		"data", `{"thing1":"大促","time2":"2024-05-01 12:30"}`), csv, "Content-Type", "text/csv"); code != http.StatusUnprocessableEntity ||
		!containsProblem(b, "dedup_window") {
		t.Errorf("a bad dedup_window: %d %s, want 422 naming dedup_window", code, b)
	}
	// The next day the caps have room again, and the window (1h) is over.
	clk.Add(24 * time.Hour)
	bc4 := group("gb4", nil)
	for u, m := range s.broadcastOutcome(bc4, 4) {
		if m.Status == message.StatusRejected {
			t.Errorf("the next day, %s: rejected %q", u, m.Reason)
		}
	}
	// Counted as the rules decided, member by member: duplicates gb1
	// users[0], gb3 three, the CSV users[2]; caps users[1] in gb1-gb3.
	_, text := s.do(http.MethodGet, "/metrics", nil)
	for rule, want := range map[string]float64{"duplicate": 5, "frequency_cap": 3} {
		if v, _ := metric(string(text), "minipush_campaign_rejected_total", `app="shop"`, `rule="`+rule+`"`); v != want {
			t.Errorf("minipush_campaign_rejected_total{rule=%s} = %v, want %v", rule, v, want)
		}
	}
}

// TestScheduleCampaignRulesHTTP: a schedule's runs are admitted as any
// broadcast is. At 06:30 in Shanghai, inside quiet hours (22:00-08:00): a
// list run's messages are held to 08:00 plus the ramp, except the member
// who got the template within the dedup window (a rejected duplicate); a
// group run is held whole and its members are checked at the fan-out; an
// urgent schedule's run goes at once.
func TestScheduleCampaignRulesHTTP(t *testing.T) {
	t.Parallel()
	sh := shanghai(t)
	clk := newTestClock(time.Date(2030, 1, 2, 6, 0, 0, 0, sh))
	mock := startMock(t)
	cfg := testConfig(t, mock.URL)
	cfg.Apps[0].Campaigns = &config.Campaigns{Dedup: &config.Dedup{Window: 24 * time.Hour},
		QuietHours: &config.QuietHours{Start: "22:00", End: "08:00", Ramp: 30 * time.Minute}}
	cfg.APIKeys = append(cfg.APIKeys, config.APIKey{Name: "ops", Key: adminKey, Scopes: []string{config.ScopeAdmin, config.ScopeRead}})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := startServiceWith(t, mock, cfg, nil, sender.WithClock(clk.Now))
	urgent := msg(shopApp, users[0], "s0")
	urgent["urgent"] = true
	first := s.post(urgent)
	s.wait(first.ID, message.StatusDelivered, 20*time.Second)
	for name, members := range map[string][]string{"early": users[3:5], "late": {users[1], users[5]}} {
		if code, b := s.do(http.MethodPut, "/v1/groups/"+name+"?app="+shopApp, map[string]any{"members": members}); code != http.StatusOK && code != http.StatusCreated {
			t.Fatalf("PUT group %s: %d %s", name, code, b)
		}
	}
	data := map[string]string{"thing1": "每日提醒", "time2": "2030-01-02 06:30", "character_string3": "daily"}
	create := func(body map[string]any) string {
		t.Helper()
		body["app"], body["cron"], body["time_zone"], body["template_id"], body["data"] = shopApp, "30 6 * * *", "Asia/Shanghai", tmpl, data
		code, raw := s.doKey(http.MethodPost, "/v1/schedules", adminKey, body)
		var sc struct {
			ID     string `json:"id"`
			Urgent bool   `json:"urgent"`
		}
		mustJSON(t, raw, &sc)
		if code != http.StatusCreated || sc.Urgent != (body["urgent"] == true) {
			t.Fatalf("POST /v1/schedules: %d %s", code, raw)
		}
		return sc.ID
	}
	// Made in this order, the runs go in this order (by id): the list
	// run's message to users[1] is admitted before the late group's fan-out.
	list := create(map[string]any{"to": users[:3]})
	early := create(map[string]any{"group": "early", "urgent": true})
	late := create(map[string]any{"group": "late"})
	clk.Set(time.Date(2030, 1, 2, 6, 30, 0, 0, sh))
	runOf := func(id string) string {
		t.Helper()
		if err := eventually(20*time.Second, func() bool {
			r := s.schedule(id).Runs
			return len(r) == 1 && r[0].Outcome == message.RunCreated
		}); err != nil {
			t.Fatalf("schedule %s did not run at 06:30: %v (%+v)", id, err, s.schedule(id))
		}
		return s.schedule(id).Runs[0].BroadcastID
	}
	end := time.Date(2030, 1, 2, 8, 0, 0, 0, sh)
	inRamp := func(t0 time.Time) bool { return !t0.Before(end) && t0.Before(end.Add(30*time.Minute)) }

	ms := s.broadcastOutcome(runOf(list), 3)
	if m := ms[users[0]]; m.Status != message.StatusRejected || m.Reason != reason.Duplicate || m.DuplicateOf != first.ID {
		t.Errorf("list run, users[0]: %s %q duplicate_of %q, want a duplicate of %s", m.Status, m.Reason, m.DuplicateOf, first.ID)
	}
	for _, u := range users[1:3] {
		if m := ms[u]; m.Status != message.StatusQueued || m.HeldReason != message.HeldQuietHours || !inRamp(m.NextAttemptAt) {
			t.Errorf("list run, %s: %s held %q at %v, want held by quiet hours to 08:00 + ramp", u, m.Status, m.HeldReason, m.NextAttemptAt)
		}
	}
	for u, m := range s.broadcastOutcome(runOf(early), 2) {
		if got := s.wait(m.ID, message.StatusDelivered, 20*time.Second); got.HeldReason != "" {
			t.Errorf("urgent run, %s: held %q", u, got.HeldReason)
		}
	}
	lateID := runOf(late)
	_, raw := s.do(http.MethodGet, "/v1/broadcasts/"+lateID, nil)
	var lb struct {
		SendAt time.Time `json:"send_at"`
	}
	mustJSON(t, raw, &lb)
	if !inRamp(lb.SendAt) {
		t.Errorf("group run's send_at %v, want held whole to 08:00 + ramp", lb.SendAt)
	}
	ml := s.broadcastOutcome(lateID, 2)
	if m := ml[users[1]]; m.Reason != reason.Duplicate || m.DuplicateOf != ms[users[1]].ID {
		t.Errorf("group run, users[1]: %s %q duplicate_of %q, want a duplicate of the list run's %s", m.Status, m.Reason, m.DuplicateOf, ms[users[1]].ID)
	}
	if m := ml[users[5]]; m.Status != message.StatusQueued || !m.NextAttemptAt.Equal(lb.SendAt) {
		t.Errorf("group run, users[5]: %s due %v, want queued, due at the broadcast's send_at %v", m.Status, m.NextAttemptAt, lb.SendAt)
	}
	if c := s.broadcastCounts(lateID); c[message.StatusRejected] != 1 {
		t.Errorf("group run's counts %v, want 1 rejected", c)
	}
	for _, m := range []message.Message{ms[users[1]], ms[users[2]], ml[users[5]]} {
		if got := s.get(m.ID); got.Status != message.StatusQueued {
			t.Errorf("%s before 08:00: %s", m.To, got.Status)
		}
	}
	clk.Set(end.Add(30 * time.Minute))
	for _, m := range []message.Message{ms[users[1]], ms[users[2]], ml[users[5]]} {
		s.wait(m.ID, message.StatusDelivered, 20*time.Second)
	}
	_, text := s.do(http.MethodGet, "/metrics", nil)
	if v, _ := metric(string(text), "minipush_campaign_held_total", `app="shop"`, `rule="quiet_hours"`); v != 2 {
		t.Errorf("minipush_campaign_held_total{rule=quiet_hours} = %v, want 2 (the list run's)", v)
	}
	if v, _ := metric(string(text), "minipush_campaign_rejected_total", `app="shop"`, `rule="duplicate"`); v != 2 {
		t.Errorf("minipush_campaign_rejected_total{rule=duplicate} = %v, want 2 (the list run's users[0], the group run's users[1])", v)
	}
}
