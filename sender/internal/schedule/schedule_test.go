package schedule_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/schedule"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// Sunday 2030-01-06 12:00 in Shanghai; the next Monday 09:00 is 2030-01-07.
var created = time.Date(2030, 1, 6, 12, 0, 0, 0, shanghai)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func weekly(id string) message.Schedule {
	return message.Schedule{ID: id, App: "shop", Platform: "wechat", Cron: "0 9 * * 1", TimeZone: "Asia/Shanghai",
		To: []string{"alice", "bob"}, TemplateID: "tpl", Data: map[string]string{"thing1": "weekly"},
		CatchUp: schedule.CatchUpLast, CatchUpWithin: message.Duration(time.Hour), CreatedAt: created.UTC(), UpdatedAt: created.UTC()}
}

func tick(t *testing.T, r *schedule.Runner) int {
	t.Helper()
	n, err := r.Tick(context.Background())
	if err != nil {
		t.Fatalf("Tick: %v", err)
	}
	return n
}

func broadcastsOf(t *testing.T, st storage.Store, id string) int {
	t.Helper()
	sc, err := st.(storage.Schedules).Schedule(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range sc.Runs {
		if r.Outcome == message.RunCreated {
			if _, _, err := st.Broadcast(context.Background(), r.BroadcastID); err != nil {
				t.Errorf("run %v names broadcast %s: %v", r.At, r.BroadcastID, err)
			}
			n++
		}
	}
	return n
}

// A weekly schedule runs once when the clock reaches Monday 09:00 in its
// time zone, not before; a restarted runner (a new store on the same
// database) and a second runner do not run it again.
func TestWeeklyRunsOnceAcrossRestartAndInstances(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	st := open(t, path)
	if err := st.CreateSchedule(context.Background(), weekly("sch_w")); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: created}
	r1 := schedule.New(st, c.now, slog.New(slog.DiscardHandler), schedule.Hooks{}, 0)
	c.set(time.Date(2030, 1, 7, 8, 59, 59, 0, shanghai))
	if n := tick(t, r1); n != 0 {
		t.Fatalf("a second before Monday 09:00: %d runs, want 0", n)
	}
	c.set(time.Date(2030, 1, 7, 9, 0, 0, 0, shanghai))
	if n := tick(t, r1); n != 1 {
		t.Fatalf("at Monday 09:00: %d runs, want 1", n)
	}
	if n := tick(t, r1); n != 0 {
		t.Fatalf("a second tick at Monday 09:00: %d runs, want 0", n)
	}
	// Restart: a new store and runner on the same database.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := open(t, path)
	r2 := schedule.New(st2, c.now, slog.New(slog.DiscardHandler), schedule.Hooks{}, 0)
	r3 := schedule.New(st2, c.now, slog.New(slog.DiscardHandler), schedule.Hooks{}, 0)
	c.set(time.Date(2030, 1, 7, 9, 0, 30, 0, shanghai))
	if n := tick(t, r2) + tick(t, r3); n != 0 {
		t.Fatalf("after the restart: %d more runs, want 0", n)
	}
	sc, err := st2.Schedule(context.Background(), "sch_w")
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Runs) != 1 || sc.Runs[0].Outcome != message.RunCreated || !sc.Runs[0].At.Equal(time.Date(2030, 1, 7, 1, 0, 0, 0, time.UTC)) {
		t.Fatalf("runs = %+v, want one created run at 2030-01-07T01:00Z", sc.Runs)
	}
	if got := schedule.NextRun(sc); !got.Equal(time.Date(2030, 1, 14, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("next run = %v, want the next Monday 09:00 Shanghai", got)
	}
	if n := broadcastsOf(t, st2, "sch_w"); n != 1 {
		t.Errorf("%d broadcasts, want 1", n)
	}
	b, counts, err := st2.Broadcast(context.Background(), sc.Runs[0].BroadcastID)
	if err != nil || b.Recipients != 2 || counts[message.StatusQueued] != 2 {
		t.Errorf("the run's broadcast = %+v %v, %v; want 2 queued messages", b, counts, err)
	}
}

// Runners racing on one store claim each run once.
func TestConcurrentRunnersClaimOnce(t *testing.T) {
	t.Parallel()
	st := open(t, filepath.Join(t.TempDir(), "db"))
	if err := st.CreateSchedule(context.Background(), weekly("sch_c")); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2030, 1, 7, 9, 0, 5, 0, shanghai)}
	var wg sync.WaitGroup
	total := make(chan int, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := schedule.New(st, c.now, slog.New(slog.DiscardHandler), schedule.Hooks{}, 0)
			n, err := r.Tick(context.Background())
			if err != nil {
				t.Errorf("Tick: %v", err)
			}
			total <- n
		}()
	}
	wg.Wait()
	close(total)
	sum := 0
	for n := range total {
		sum += n
	}
	if sum != 1 {
		t.Fatalf("6 runners made %d runs, want 1", sum)
	}
	if n := broadcastsOf(t, st, "sch_c"); n != 1 {
		t.Errorf("%d broadcasts, want 1", n)
	}
}

// Missed runs: catch_up last makes the latest missed run when it is
// within catch_up_within, skips it (recorded, with the count of missed
// runs) when it is older; catch_up none skips anything over a minute late.
func TestCatchUpPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		catchUp string
		within  time.Duration
		now     time.Time
		outcome string
		missed  int
		at      time.Time
	}{
		// Down from Sunday to Monday 2030-01-21 09:30: three Mondays
		// passed; the latest is 30 minutes late.
		{"last within", schedule.CatchUpLast, time.Hour, time.Date(2030, 1, 21, 9, 30, 0, 0, shanghai), message.RunCreated, 2,
			time.Date(2030, 1, 21, 9, 0, 0, 0, shanghai)},
		{"last too old", schedule.CatchUpLast, time.Hour, time.Date(2030, 1, 21, 11, 0, 0, 0, shanghai), message.RunSkipped, 2,
			time.Date(2030, 1, 21, 9, 0, 0, 0, shanghai)},
		{"none late", schedule.CatchUpNone, time.Hour, time.Date(2030, 1, 7, 9, 30, 0, 0, shanghai), message.RunSkipped, 0,
			time.Date(2030, 1, 7, 9, 0, 0, 0, shanghai)},
		{"none on time", schedule.CatchUpNone, time.Hour, time.Date(2030, 1, 7, 9, 0, 40, 0, shanghai), message.RunCreated, 0,
			time.Date(2030, 1, 7, 9, 0, 0, 0, shanghai)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := open(t, filepath.Join(t.TempDir(), "db"))
			s := weekly("sch_p")
			s.CatchUp, s.CatchUpWithin = tc.catchUp, message.Duration(tc.within)
			if err := st.CreateSchedule(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			c := &clock{t: tc.now}
			var outcomes []string
			r := schedule.New(st, c.now, slog.New(slog.DiscardHandler), schedule.Hooks{Ran: func(_, o string) { outcomes = append(outcomes, o) }}, 0)
			if n := tick(t, r); n != 1 {
				t.Fatalf("%d runs, want 1", n)
			}
			sc, _ := st.Schedule(context.Background(), "sch_p")
			run := sc.Runs[0]
			if run.Outcome != tc.outcome || run.Missed != tc.missed || !run.At.Equal(tc.at) {
				t.Errorf("run = %+v, want outcome %s, missed %d, at %v", run, tc.outcome, tc.missed, tc.at)
			}
			if len(outcomes) != 1 || outcomes[0] != tc.outcome {
				t.Errorf("counted outcomes %v, want [%s]", outcomes, tc.outcome)
			}
			if n := tick(t, r); n != 0 {
				t.Errorf("a second tick made %d runs, want 0", n)
			}
		})
	}
}

// A paused schedule does not run; resumed, it follows its catch-up policy.
// A run whose group is gone is recorded as failed.
func TestPausedAndFailedRuns(t *testing.T) {
	t.Parallel()
	st := open(t, filepath.Join(t.TempDir(), "db"))
	s := weekly("sch_g")
	s.To, s.Group = nil, "nobody"
	if err := st.CreateSchedule(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PauseSchedule(context.Background(), "sch_g", true, created); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2030, 1, 7, 9, 0, 0, 0, shanghai)}
	r := schedule.New(st, c.now, slog.New(slog.DiscardHandler), schedule.Hooks{}, 0)
	if n := tick(t, r); n != 0 {
		t.Fatalf("paused: %d runs, want 0", n)
	}
	if _, err := st.PauseSchedule(context.Background(), "sch_g", false, c.now()); err != nil {
		t.Fatal(err)
	}
	if n := tick(t, r); n != 1 {
		t.Fatalf("resumed: %d runs, want 1", n)
	}
	sc, _ := st.Schedule(context.Background(), "sch_g")
	if sc.Runs[0].Outcome != message.RunFailed || sc.Runs[0].Error == "" {
		t.Errorf("run to a missing group = %+v, want failed with the reason", sc.Runs[0])
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr, tz string
		ok       bool
	}{
		{"0 9 * * 1", "Asia/Shanghai", true},
		{"@weekly", "UTC", true},
		{"0 9 * * 1", "Mars/Olympus", false},
		{"0 9 * * 1", "", false},
		{"61 9 * * 1", "UTC", false},
		{"TZ=UTC 0 9 * * 1", "UTC", false},
		{"@every 1m", "UTC", false},
		{"0 0 9 * * 1", "UTC", false}, // six fields: seconds are not taken
	} {
		if _, _, err := schedule.Parse(tc.expr, tc.tz); (err == nil) != tc.ok {
			t.Errorf("Parse(%q, %q) = %v, want ok %v", tc.expr, tc.tz, err, tc.ok)
		}
	}
}
