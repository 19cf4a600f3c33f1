package chaos_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // read the killed sender's database: what it held in flight

	"github.com/minipush/minipush/chaos"
	"github.com/minipush/minipush/mockserver/mockclient"
)

// Probe 6: SIGKILL loops. Messages are posted without pause (each with its
// marker as idempotency key, re-posted until answered, through every kill)
// while bin/sender is killed with SIGKILL again and again and restarted on
// the same database. After each kill, before the restart, the killed
// process's database says which messages it held in flight (status
// sending): the only ones a restart may send a second time.
//
// Pass: every accepted message delivered (0 lost); every duplicate is a
// message that was in flight at a kill, and at no kill more duplicates
// than messages in flight.
func TestKillLoop(t *testing.T) {
	mode := chaos.Gate(t)
	fig := chaos.NewFigures("kill_loop", mode)
	defer fig.Report(t)
	kills := chaos.Pick(mode, 5, 10)
	n := chaos.Pick(mode, 3000, 12_000)
	const posters, users = 16, 200
	w := newWorld(t, mode, users, n*2)
	w.writeConfig("", "", "")
	p := w.startSender()
	fig.Set("kills", kills)
	fig.Set("messages", n)

	var (
		base     atomic.Pointer[string]
		next     atomic.Int64
		repeats  atomic.Int64
		accepted = make([]bool, n)
		errs     = make(chan error, posters)
		wg       sync.WaitGroup
	)
	base.Store(&p.URL)
	marker := func(i int) string { return fmt.Sprintf("k%06d", i) }
	deadline := time.Now().Add(chaos.Pick(mode, 4*time.Minute, 10*time.Minute))
	for range posters {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				for {
					ok, code, err := w.post(*base.Load(), userName(i%users), marker(i))
					if ok {
						accepted[i] = true
						break
					}
					if err == nil && code < 500 {
						errs <- fmt.Errorf("message %d: answered %d", i, code)
						return
					}
					if time.Now().After(deadline) {
						errs <- fmt.Errorf("message %d: not accepted by the deadline (last: %d %v)", i, code, err)
						return
					}
					repeats.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
				// A steady stream rather than a burst: sends are in flight
				// at every kill, and posting outlasts the kills.
				time.Sleep(time.Duration(posters) * chaos.Pick(mode, 8*time.Millisecond, 12*time.Millisecond))
			}
		})
	}

	ctx := context.Background()
	inflight := map[string]int{} // marker → the kill it was in flight at
	var perKill []int
	var restarts []time.Duration
	every := n / (kills + 2)
	for k := range kills {
		// Kill once another share of the messages has been delivered.
		if _, err := w.mock.Control.Messages(ctx, mockclient.MessageFilter{AppID: appID, Min: (k + 1) * every,
			Wait: 60 * time.Second, Limit: 1}); err != nil {
			t.Fatal(err)
		}
		if err := w.sender.Kill(); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		held, err := sending(w.dbPath)
		if err != nil {
			t.Fatalf("kill %d: read the killed sender's database: %v", k+1, err)
		}
		for _, mk := range held {
			inflight[mk] = k + 1
		}
		perKill = append(perKill, len(held))
		p := w.startSender()
		restarts = append(restarts, time.Since(killed).Round(time.Millisecond))
		base.Store(&p.URL)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	if err := w.drain(*base.Load(), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	got, dropped := w.inbox("k")
	if dropped > 0 {
		t.Fatalf("the mock's inbox dropped %d messages: cannot reconcile", dropped)
	}
	var keys []string
	for i := range n {
		if accepted[i] {
			keys = append(keys, inboxKey(marker(i), userName(i%users)))
		}
	}
	lost, dups, dupKeys := reconcile(keys, got)
	dupsAt := make([]int, kills+1)
	unexplained := 0
	for _, key := range dupKeys {
		mk := key[:len("k000000")]
		k, ok := inflight[mk]
		if !ok {
			unexplained++
			t.Errorf("%s delivered %d times but was not in flight at any kill", mk, got[key])
			continue
		}
		dupsAt[k] += got[key] - 1
	}
	for k := 1; k <= kills; k++ {
		if dupsAt[k] > perKill[k-1] {
			t.Errorf("kill %d: %d duplicates, but %d messages were in flight", k, dupsAt[k], perKill[k-1])
		}
	}
	fig.Set("accepted", len(keys))
	fig.Set("lost", lost)
	fig.Set("duplicates", dups)
	fig.Set("duplicates_unexplained", unexplained)
	fig.Set("in_flight_per_kill", perKill)
	fig.Set("duplicates_per_kill", dupsAt[1:])
	fig.Set("restart_to_ready", restarts)
	fig.Set("posts_repeated", repeats.Load())
	if lost > 0 {
		t.Errorf("%d accepted messages never delivered", lost)
	}
	if err := w.sender.Stop(20 * time.Second); err != nil {
		t.Errorf("SIGTERM after the loop: %v\n%s", err, chaos.Tail(w.logPath, 20))
	}
}

// sending lists the markers of the messages a dead sender's database holds
// as sending: leased, maybe sent, outcome not written.
func sending(dbPath string) ([]string, error) {
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT json_extract(data, '$.` + markerKW + `') FROM messages WHERE status = 'sending'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var mk string
		if err := rows.Scan(&mk); err != nil {
			return nil, err
		}
		out = append(out, mk)
	}
	return out, rows.Err()
}
