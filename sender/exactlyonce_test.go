package sender_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender/internal/message"
)

// groupBody is a PUT /v1/groups body with n generated members.
func groupBody(app string, n int) []byte {
	var b bytes.Buffer
	b.Grow(n*24 + 64)
	fmt.Fprintf(&b, `{"app":%q,"members":[`, app)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"o_bulk_%09d"`, i)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// The first defect: a large broadcast held the single SQLite
// writer for seconds, in-flight sends could not record their outcome, and
// their leases ran out: the same message was sent twice without any crash.
// Here a large group is written and a broadcast to it fanned out (not due
// for an hour: the test is about the writes) while a stream of single
// messages is delivered. Every single message reaches the inbox exactly
// once.
func TestNoDuplicatesWhileBroadcasting(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a large group (skipped under -short)")
	}
	t.Parallel()
	members, singles := 1_000_000, 1500
	if raceEnabled {
		members, singles = 100_000, 600
	}
	mock := startMock(t)
	cfg := testConfig(t, mock.URL)
	// Leases as short as the configuration allows: a writer stall longer
	// than this used to hand a message to a second worker.
	cfg.Delivery.Lease, cfg.Delivery.SendTimeout = 2*time.Second, time.Second
	// The bulk requests themselves may take long under the race detector;
	// the server's limits are not what this test is about.
	cfg.Server.ReadTimeout, cfg.Server.WriteTimeout = 10*time.Minute, 10*time.Minute
	s := startService(t, mock, cfg, nil)
	// Sends that take a moment, so that every worker is mid-send whenever
	// the bulk writes start.
	addFault(t, mock, mockapi.Fault{Endpoint: "subscribe_send", AppID: shopAppID, Latency: mockapi.Duration(50 * time.Millisecond)})

	var (
		wg        sync.WaitGroup
		bulkDone  atomic.Bool
		bulkErr   error
		bulkStart = time.Now()
		bulkTook  time.Duration
	)
	wg.Go(func() {
		defer bulkDone.Store(true)
		code, b, err := callSlow(s.URL, http.MethodPut, "/v1/groups/everyone", groupBody(shopApp, members))
		if err != nil || code != http.StatusOK {
			bulkErr = fmt.Errorf("PUT group: %d %s %v", code, b, err)
			return
		}
		body := msg(shopApp, "", "bulk")
		delete(body, "to")
		body["group"] = "everyone"
		body["send_at"] = time.Now().Add(time.Hour).Format(time.RFC3339)
		code, b, err = callSlow(s.URL, http.MethodPost, "/v1/broadcasts", body)
		if err != nil || code != http.StatusAccepted {
			bulkErr = fmt.Errorf("POST broadcast: %d %s %v", code, b, err)
			return
		}
		var a accepted
		mustJSON(t, b, &a)
		// Wait until the fan-out is complete: every recipient queued.
		err = eventually(10*time.Minute, func() bool {
			code, b := s.do(http.MethodGet, "/v1/broadcasts/"+a.ID, nil)
			var got struct {
				Counts map[message.Status]int `json:"counts"`
			}
			mustJSON(t, b, &got)
			return code == http.StatusOK && got.Counts[message.StatusQueued] == members
		})
		if err != nil {
			bulkErr = fmt.Errorf("broadcast %s was not fanned out to %d recipients", a.ID, members)
		}
		bulkTook = time.Since(bulkStart)
	})

	// Single messages from several clients at once, a steady stream while
	// the bulk work runs (and a little beyond, should it end first), so
	// that sends are in flight whenever the bulk writes start.
	const posters = 8
	var slowest maxDuration
	var (
		next   atomic.Int64
		idsMu  sync.Mutex
		ids    = map[int]string{}
		postWG sync.WaitGroup
	)
	for range posters {
		postWG.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= singles || (bulkDone.Load() && i >= singles/2) {
					return
				}
				start := time.Now()
				code, b, err := call(s.URL, http.MethodPost, "/v1/messages", testAPIKey,
					msg(shopApp, users[i%len(users)], fmt.Sprintf("single-%05d", i)))
				slowest.record(time.Since(start))
				if err != nil || code != http.StatusAccepted {
					t.Errorf("POST /v1/messages: %d %s %v", code, b, err)
					return
				}
				var a accepted
				mustJSON(t, b, &a)
				idsMu.Lock()
				ids[i] = a.ID
				idsMu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	postWG.Wait()
	wg.Wait()
	if bulkErr != nil {
		t.Fatal(bulkErr)
	}
	for _, id := range ids {
		s.wait(id, message.StatusDelivered, time.Minute)
	}
	seen := map[string]int{}
	for _, u := range users {
		for _, m := range inbox(t, mock, shopAppID, u, 0) {
			seen[m.Data["character_string3"]]++
		}
	}
	dups := 0
	for i := range ids {
		switch n := seen[fmt.Sprintf("single-%05d", i)]; {
		case n == 0:
			t.Errorf("single-%05d never reached the inbox", i)
		case n > 1:
			dups += n - 1
		}
	}
	t.Logf("%d-member group broadcast written and fanned out in %v while %d single messages were delivered; %d duplicates; slowest accept %v",
		members, bulkTook.Round(time.Millisecond), len(ids), dups, slowest.get().Round(time.Millisecond))
	if dups > 0 {
		t.Errorf("%d duplicate deliveries without any crash", dups)
	}
}

// maxDuration keeps the largest duration recorded, from any goroutine.
type maxDuration struct {
	mu  sync.Mutex
	max time.Duration
}

func (m *maxDuration) record(d time.Duration) {
	m.mu.Lock()
	m.max = max(m.max, d)
	m.mu.Unlock()
}

func (m *maxDuration) get() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.max
}

// callSlow is call with room for a bulk request to take minutes.
func callSlow(base, method, path string, body any) (int, []byte, error) {
	j, ok := body.([]byte)
	if !ok {
		var err error
		if j, err = json.Marshal(body); err != nil {
			return 0, nil, err
		}
	}
	req, err := http.NewRequest(method, base+path, bytes.NewReader(j))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
