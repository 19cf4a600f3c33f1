package chaos_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/chaos"
)

// Probe 1: a large audience during a send run. A broadcast request lists
// at most 10,000 recipients (docs/delivery.md "Large audiences"), so the
// audience is a group: every granted user of the mock, streamed into
// PUT /v1/groups/{name}, then POST /v1/broadcasts {"group"} — while single
// messages are posted and delivered all along, on short leases. Then the
// whole audience is delivered.
//
// Pass: every recipient of the broadcast and every single message in the
// mock's inbox exactly once (0 lost, 0 duplicates), reconciled per marker
// and recipient.
func TestLargeAudience(t *testing.T) {
	mode := chaos.Gate(t)
	fig := chaos.NewFigures("large_audience", mode)
	defer fig.Report(t)
	members := chaos.Pick(mode, 50_000, 1_000_000)
	singles := chaos.Pick(mode, 1500, 5000)
	w := newWorld(t, mode, members, members+singles+1000)
	// Short leases: a writer held by bulk work for longer than this used
	// to hand a message to a second worker (issue 9, defect 1).
	w.writeConfig("", `delivery: {workers: 64, batch: 256, lease: 3s, send_timeout: 2s, backoff_base: 100ms, backoff_max: 1s,
  throttle_backoff: 300ms, poll_interval: 10ms, shutdown_timeout: 5s}`, "")
	p := w.startSender()
	fig.Set("members", members)
	fig.Set("singles", singles)
	start := time.Now()

	// Singles: a steady stream through the whole bulk phase.
	var (
		bulkDone atomic.Bool
		next     atomic.Int64
		mu       sync.Mutex
		accepted []string
		slowest  time.Duration
		wg       sync.WaitGroup
		postErrs atomic.Int64
	)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= singles {
					return
				}
				to, mk := userName(i%members), fmt.Sprintf("s%06d", i)
				t0 := time.Now()
				ok, code, err := w.post(p.URL, to, mk)
				took := time.Since(t0)
				mu.Lock()
				slowest = max(slowest, took)
				if ok {
					accepted = append(accepted, inboxKey(mk, to))
				}
				mu.Unlock()
				if !ok {
					postErrs.Add(1)
					t.Errorf("single %s: %d %v", mk, code, err)
					return
				}
				if bulkDone.Load() {
					time.Sleep(5 * time.Millisecond)
				} else {
					time.Sleep(40 * time.Millisecond)
				}
			}
		})
	}

	// The group, streamed.
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprintf(pw, `{"app":%q,"members":[`, appName)
		for i := range members {
			if i > 0 {
				io.WriteString(pw, ",")
			}
			fmt.Fprintf(pw, "%q", userName(i))
		}
		io.WriteString(pw, "]}")
		pw.Close()
	}()
	hc := &http.Client{Timeout: 15 * time.Minute}
	req, _ := http.NewRequest(http.MethodPut, p.URL+"/v1/groups/everyone", pr)
	req.Header.Set("Authorization", "Bearer "+w.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("PUT the group: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT the group: %d %s", resp.StatusCode, b)
	}
	groupTook := time.Since(start)
	t.Logf("group of %d written in %v", members, groupTook.Round(time.Millisecond))
	body := message("", "bcast")
	delete(body, "to")
	body["group"] = "everyone"
	code, _, b, err := w.do(p.URL, http.MethodPost, "/v1/broadcasts", body, "Idempotency-Key", "chaos-bcast")
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("POST the broadcast: %d %s %v", code, b, err)
	}
	var bc struct {
		ID         string `json:"id"`
		Recipients int    `json:"recipients"`
	}
	if err := json.Unmarshal(b, &bc); err != nil || bc.Recipients != members {
		t.Fatalf("broadcast answer %s, want %d recipients", b, members)
	}
	// Fanned out: every recipient's message exists.
	fanStart := time.Now()
	for {
		code, _, b, err := w.do(p.URL, http.MethodGet, "/v1/broadcasts/"+bc.ID, nil)
		var got struct {
			FannedOut int `json:"fanned_out"`
		}
		if err == nil && code == http.StatusOK && json.Unmarshal(b, &got) == nil && got.FannedOut == members {
			break
		}
		if time.Since(fanStart) > chaos.Pick(mode, 5*time.Minute, 30*time.Minute) {
			t.Fatalf("broadcast %s not fanned out: %d %s %v", bc.ID, code, b, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	fanTook := time.Since(fanStart)
	t.Logf("broadcast fanned out to %d in %v", members, fanTook.Round(time.Millisecond))
	bulkDone.Store(true)
	wg.Wait()
	// 1,000,000 messages at 360/s (load 50) take 46 minutes.
	if err := w.drain(p.URL, chaos.Pick(mode, 5*time.Minute, 90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	total := time.Since(start)
	got, dropped := w.inbox("")
	if dropped > 0 {
		t.Fatalf("the mock's inbox dropped %d messages: cannot reconcile", dropped)
	}
	want := append([]string(nil), accepted...)
	for i := range members {
		want = append(want, inboxKey("bcast", userName(i)))
	}
	lost, dups, dupKeys := reconcile(want, got)
	unexpected := 0
	wanted := make(map[string]bool, len(want))
	for _, k := range want {
		wanted[k] = true
	}
	for k := range got {
		if !wanted[k] {
			unexpected++
		}
	}
	_, _, mb, _ := w.do(p.URL, http.MethodGet, "/metrics", nil)
	outcomes, _ := metric(string(mb), "minipush_outcome_write_seconds_count")
	outcomeSum, _ := metric(string(mb), "minipush_outcome_write_seconds_sum")
	refused, _ := metric(string(mb), "minipush_outcomes_refused_total")
	fig.Set("group_put_s", groupTook.Seconds())
	fig.Set("fan_out_s", fanTook.Seconds())
	fig.Set("total_s", total.Seconds())
	fig.Set("delivered_per_s", float64(members+len(accepted))/total.Seconds())
	fig.Set("singles_accepted", len(accepted))
	fig.Set("slowest_single_accept_ms", slowest.Milliseconds())
	fig.Set("lost", lost)
	fig.Set("duplicates", dups)
	fig.Set("unexpected", unexpected)
	fig.Set("outcome_write_mean_ms", 1000*outcomeSum/max(outcomes, 1))
	fig.Set("outcomes_refused", refused)
	if lost > 0 || dups > 0 || unexpected > 0 {
		n := min(len(dupKeys), 5)
		t.Errorf("%d lost, %d duplicates (e.g. %v), %d unexpected deliveries", lost, dups, dupKeys[:n], unexpected)
	}
}
