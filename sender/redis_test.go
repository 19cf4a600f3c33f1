package sender_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/redistest"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
)

var redisPrefixes atomic.Int64

// onRedis points cfg at srv under a prefix of its own (one deployment).
func onRedis(cfg *config.Config, srv *redistest.Server, prefix string) *config.Config {
	cfg.Storage = config.Storage{Driver: config.DriverRedis, URL: srv.URL(), Prefix: prefix}
	return cfg
}

func newPrefix() string { return fmt.Sprintf("sender%d", redisPrefixes.Add(1)) }

// Two sender instances on one Redis serve one queue: messages accepted by
// either are delivered exactly once, both answer for every message, each
// app's token is fetched once for the deployment, and the app's rate is
// the deployment's.
func TestRedisTwoInstances(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.WithAOF("everysec"))
	mock := startMock(t)
	prefix := newPrefix()
	const rate = 100 // per second, per app, for the whole deployment
	var instances []*svc
	for range 2 {
		cfg := onRedis(testConfig(t, mock.URL), srv, prefix)
		for i := range cfg.Apps {
			cfg.Apps[i].Rate.PerSecond, cfg.Apps[i].Rate.Burst = rate, 5
		}
		instances = append(instances, startService(t, mock, cfg, nil))
	}
	n := 300
	if raceEnabled {
		n = 120
	}
	ids := make([]string, n)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := w; i < n; i += 6 {
				app := []string{shopApp, clubApp}[i%2]
				body := msg(app, users[i%len(users)], "two-"+strconv.Itoa(i))
				code, b, err := call(instances[i%2].URL, http.MethodPost, "/v1/messages", testAPIKey, body)
				if err != nil || code != http.StatusAccepted {
					t.Errorf("POST to instance %d: %d %s %v", i%2, code, b, err)
					return
				}
				var a accepted
				mustJSON(t, b, &a)
				ids[i] = a.ID
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// Both instances answer for any message: accepted by one, read on the other.
	for i, id := range ids {
		m := instances[(i+1)%2].wait(id, message.StatusDelivered, 30*time.Second)
		if m.Data["character_string3"] != "two-"+strconv.Itoa(i) {
			t.Fatalf("message %s: %+v", id, m)
		}
	}
	for _, app := range []struct{ id, name string }{{shopAppID, shopApp}, {clubAppID, clubApp}} {
		got := inbox(t, mock, app.id, "", n/2)
		seen := map[string]int{}
		for _, m := range got {
			seen[m.Data["character_string3"]]++
		}
		for marker, c := range seen {
			if c != 1 {
				t.Errorf("%s: %s delivered %d times", app.name, marker, c)
			}
		}
		if len(seen) != n/2 {
			t.Errorf("%s: %d distinct messages in the inbox, want %d", app.name, len(seen), n/2)
		}
		if fetches := journal(t, mock, "stable_token", app.id); len(fetches) != 1 {
			t.Errorf("%s: %d token fetches across two instances, want 1", app.name, len(fetches))
		}
		// The app's sends, second by second: the deployment's rate (a burst
		// of 5 on top), not twice it.
		perSecond := map[int64]int{}
		for _, r := range journal(t, mock, "subscribe_send", app.id) {
			perSecond[r.Time.Unix()]++
		}
		for sec, c := range perSecond {
			if c > rate*11/10 {
				t.Errorf("%s: %d sends in second %d, over the deployment's cap %d/s +10%%", app.name, c, sec, rate)
			}
		}
	}
}

// Redis unavailable: the API answers 503 with Retry-After (never 202),
// /readyz is not ready, and when Redis is back (from its append-only
// file) the sender is ready again and every accepted message is
// delivered. appendfsync always: Redis is SIGKILLed, and under everysec
// it may hold acknowledged writes for up to 2 s (docs/redis.md#durability).
func TestRedisUnavailable(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.WithAOF("always"))
	mock := startMock(t)
	s := startService(t, mock, onRedis(testConfig(t, mock.URL), srv, newPrefix()), nil)
	before := s.send(msg(shopApp, users[0], "before"))
	s.wait(before, message.StatusDelivered, 10*time.Second)

	// Accepted and waiting: due in a moment, when Redis will be gone.
	later := msg(shopApp, users[1], "later")
	later["send_at"] = time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	laterID := s.send(later)

	srv.Kill()
	body, _ := json.Marshal(msg(shopApp, users[2], "while-down"))
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/messages", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("POST while Redis is down: %d (Retry-After %q) %s, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if err := eventually(10*time.Second, func() bool {
		code, _ := s.doKey(http.MethodGet, "/readyz", "", nil)
		return code == http.StatusServiceUnavailable
	}); err != nil {
		t.Fatal("/readyz stayed ready while Redis was down")
	}
	resp, err = http.Get(s.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("/readyz while down: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	time.Sleep(2 * time.Second) // the dispatcher fails to claim meanwhile, and backs off

	srv.Restart(t)
	if err := eventually(20*time.Second, func() bool {
		code, _ := s.doKey(http.MethodGet, "/readyz", "", nil)
		return code == http.StatusOK
	}); err != nil {
		t.Fatal("/readyz not ready again after Redis came back")
	}
	after := s.send(msg(shopApp, users[3], "after"))
	for _, id := range []string{before, laterID, after} {
		s.wait(id, message.StatusDelivered, 20*time.Second)
	}
	for _, marker := range []string{"before", "later", "after"} {
		n := 0
		for _, m := range inbox(t, mock, shopAppID, "", 3) {
			if m.Data["character_string3"] == marker {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", marker, n)
		}
	}
}
