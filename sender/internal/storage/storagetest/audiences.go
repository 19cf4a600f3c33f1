package storagetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// CSV audiences and schedules (issue 16): every backend implements
// storage.Audiences and storage.Schedules.

func audiences(t *testing.T, s storage.Store) storage.Audiences {
	t.Helper()
	a, ok := s.(storage.Audiences)
	if !ok {
		t.Fatalf("%T does not implement storage.Audiences", s)
	}
	return a
}

func schedules(t *testing.T, s storage.Store) storage.Schedules {
	t.Helper()
	sc, ok := s.(storage.Schedules)
	if !ok {
		t.Fatalf("%T does not implement storage.Schedules", s)
	}
	return sc
}

func rowsOf(ms ...message.Member) iter.Seq2[message.Member, error] {
	return func(yield func(message.Member, error) bool) {
		for _, m := range ms {
			if !yield(m, nil) {
				return
			}
		}
	}
}

// testAudience: a group's members carry their own keyword values; a
// broadcast to it sends each member the broadcast's data with theirs over
// it; a member given twice keeps its first row; the report is kept; a
// failing stream leaves the group as it was; large audiences fan out in
// bounded steps with every member's own values.
func testAudience(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := audiences(t, s)
	rep := &message.AudienceReport{Rows: 4, Accepted: 3, Rejected: 1,
		Errors: []message.RowError{{Line: 3, Field: "to", Rule: "required", Reason: "to is empty"}}}
	g, dup, err := a.PutAudience(ctx, "app1", "csv", rowsOf(
		message.Member{To: "u1", Data: map[string]string{"thing1": "one", "amount2": "1"}},
		message.Member{To: "u2", Data: map[string]string{}},
		message.Member{To: "u1", Data: map[string]string{"thing1": "again"}},
	), func() *message.AudienceReport { return rep }, "", nil)
	if err != nil || dup {
		t.Fatalf("PutAudience = %v, dup %v", err, dup)
	}
	if g.Size != 2 || g.CSV == nil || g.CSV.Rejected != 1 {
		t.Errorf("PutAudience = %+v, want size 2 and the report", g)
	}
	got, mems, _, err := s.Group(ctx, "app1", "csv", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(mems) != "[u1 u2]" || got.CSV == nil || got.CSV.Rows != 4 || len(got.CSV.Errors) != 1 ||
		got.CSV.Errors[0] != rep.Errors[0] {
		t.Errorf("Group = %+v %v, want members [u1 u2] and the report %+v", got, mems, rep)
	}

	b := message.Broadcast{ID: "bcsv", App: "app1", Platform: "wechat", Group: "csv", TemplateID: "tpl",
		Data: map[string]string{"thing1": "default", "date3": "2030-01-02"}, CreatedAt: t0}
	if _, _, err := s.CreateBroadcast(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	fanOutAll(t, s, 1)
	byTo := map[string]map[string]string{}
	for _, id := range listAll(t, s, storage.Filter{BroadcastID: "bcsv"}) {
		m := get(t, s, id)
		byTo[m.To] = m.Data
	}
	if want := fmt.Sprint(map[string]string{"thing1": "one", "amount2": "1", "date3": "2030-01-02"}); fmt.Sprint(byTo["u1"]) != want {
		t.Errorf("u1's data = %v, want %s (its own first row over the broadcast's)", byTo["u1"], want)
	}
	if want := fmt.Sprint(b.Data); fmt.Sprint(byTo["u2"]) != want {
		t.Errorf("u2's data = %v, want the broadcast's %s", byTo["u2"], want)
	}

	// A JSON PUT of the same group drops the report.
	putGroup(t, s, "app1", "csv", members("u3"))
	if g, _, _, err := s.Group(ctx, "app1", "csv", "", 0); err != nil || g.CSV != nil {
		t.Errorf("after a JSON PUT: Group = %+v, %v; want no report", g, err)
	}

	// A stream that fails leaves the group as it was.
	boom := errors.New("bad row")
	_, _, err = a.PutAudience(ctx, "app1", "csv", func(yield func(message.Member, error) bool) {
		if yield(message.Member{To: "x", Data: map[string]string{"k": "v"}}, nil) {
			yield(message.Member{}, boom)
		}
	}, nil, "", nil)
	if !errors.Is(err, boom) {
		t.Errorf("PutAudience with a failing stream = %v, want %v", err, boom)
	}
	if _, got, _, _ := s.Group(ctx, "app1", "csv", "", 10); fmt.Sprint(got) != "[u3]" {
		t.Errorf("after a failed PutAudience the members are %v, want [u3]", got)
	}

	// Large: 2,500 members, each with its own value, fanned out in steps
	// of 1,000.
	const n = 2500
	_, _, err = a.PutAudience(ctx, "app2", "big", func(yield func(message.Member, error) bool) {
		for i := range n {
			if !yield(message.Member{To: fmt.Sprintf("m%05d", i), Data: map[string]string{"number1": fmt.Sprint(i)}}, nil) {
				return
			}
		}
	}, nil, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b2 := message.Broadcast{ID: "bbig", App: "app2", Platform: "wechat", Group: "big", TemplateID: "tpl",
		Data: map[string]string{"thing2": "x"}, CreatedAt: t0}
	if _, _, err := s.CreateBroadcast(ctx, b2, nil); err != nil {
		t.Fatal(err)
	}
	if steps := fanOutAll(t, s, 1000); sum(steps) != n {
		t.Fatalf("fan-out made %d messages in steps %v, want %d", sum(steps), steps, n)
	}
	seen := map[string]bool{}
	var all []message.Message
	for f := (storage.Filter{BroadcastID: "bbig", Limit: 1000}); ; {
		page, next, err := s.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" || len(page) == 0 {
			break
		}
		f.Cursor = next
	}
	for _, m := range all {
		id := m.ID
		var i int
		if _, err := fmt.Sscanf(m.To, "m%05d", &i); err != nil || m.Data["number1"] != fmt.Sprint(i) || m.Data["thing2"] != "x" {
			t.Fatalf("message %s to %s has data %v, want number1=%d and thing2=x", id, m.To, m.Data, i)
		}
		if seen[m.To] {
			t.Fatalf("%s got two messages", m.To)
		}
		seen[m.To] = true
	}
	if len(seen) != n {
		t.Errorf("%d members got a message, want %d", len(seen), n)
	}
}

// testAudienceIdempotency: a CSV audience write with a key taken is not
// made again; the same key with another fingerprint is refused.
func testAudienceIdempotency(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := audiences(t, s)
	put := func(to, fp string) (message.Group, bool, error) {
		return a.PutAudience(ctx, "app1", "g", rowsOf(message.Member{To: to, Data: map[string]string{}}),
			func() *message.AudienceReport { return &message.AudienceReport{Rows: 1, Accepted: 1} }, "k1",
			func() string { return fp })
	}
	if _, dup, err := put("u1", "fp1"); err != nil || dup {
		t.Fatalf("first PutAudience = %v, dup %v", err, dup)
	}
	g, dup, err := put("u2", "fp1")
	if err != nil || !dup || g.Size != 1 {
		t.Errorf("retried PutAudience = %+v, dup %v, %v; want the first write's group, dup", g, dup, err)
	}
	if _, ms, _, _ := s.Group(ctx, "app1", "g", "", 10); fmt.Sprint(ms) != "[u1]" {
		t.Errorf("after the retry the members are %v, want [u1]", ms)
	}
	if _, _, err := put("u3", "fp2"); !errors.Is(err, storage.ErrIdempotencyMismatch) {
		t.Errorf("PutAudience with another fingerprint = %v, want ErrIdempotencyMismatch", err)
	}
}

func newSchedule(id, app string) message.Schedule {
	return message.Schedule{ID: id, App: app, Cron: "0 9 * * 1", TimeZone: "Asia/Shanghai", Group: "vip",
		TemplateID: "tpl", Data: map[string]string{"thing1": "weekly"}, CatchUp: "last",
		CatchUpWithin: message.Duration(time.Hour), CreatedAt: t0, UpdatedAt: t0, Runs: []message.ScheduleRun{}}
}

// testSchedules: create, read, list by app and page, pause, claim a run
// once, finish it, history newest first and capped, delete.
func testSchedules(t *testing.T, s storage.Store) {
	ctx := context.Background()
	st := schedules(t, s)
	for _, sc := range []message.Schedule{newSchedule("sch_1", "app1"), newSchedule("sch_2", "app2"), newSchedule("sch_3", "app1")} {
		if err := st.CreateSchedule(ctx, sc); err != nil {
			t.Fatalf("CreateSchedule(%s): %v", sc.ID, err)
		}
	}
	if err := st.CreateSchedule(ctx, newSchedule("sch_1", "app1")); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("CreateSchedule with a taken id = %v, want ErrConflict", err)
	}
	got, err := st.Schedule(ctx, "sch_1")
	if err != nil {
		t.Fatal(err)
	}
	want := newSchedule("sch_1", "app1")
	if got.Cron != want.Cron || got.TimeZone != want.TimeZone || got.Group != "vip" || got.Data["thing1"] != "weekly" ||
		got.CatchUpWithin != want.CatchUpWithin || !got.CreatedAt.Equal(t0) || got.Paused || len(got.Runs) != 0 {
		t.Errorf("Schedule = %+v, want %+v", got, want)
	}
	if _, err := st.Schedule(ctx, "sch_none"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Schedule(unknown) = %v, want ErrNotFound", err)
	}
	ids := func(ss []message.Schedule) string {
		var out []string
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return fmt.Sprint(out)
	}
	page, next, err := st.ListSchedules(ctx, "", "", 2)
	if err != nil || ids(page) != "[sch_1 sch_2]" || next != "sch_2" {
		t.Errorf("ListSchedules(all, 2) = %s next %q, %v; want [sch_1 sch_2] next sch_2", ids(page), next, err)
	}
	page, next, err = st.ListSchedules(ctx, "", next, 2)
	if err != nil || ids(page) != "[sch_3]" || next != "" {
		t.Errorf("ListSchedules(all, after sch_2) = %s next %q, %v; want [sch_3]", ids(page), next, err)
	}
	page, _, err = st.ListSchedules(ctx, "app1", "", 0)
	if err != nil || ids(page) != "[sch_1 sch_3]" {
		t.Errorf("ListSchedules(app1) = %s, %v; want [sch_1 sch_3]", ids(page), err)
	}

	// Pause: a paused schedule's runs are refused.
	p, err := st.PauseSchedule(ctx, "sch_1", true, at(time.Minute))
	if err != nil || !p.Paused || !p.UpdatedAt.Equal(at(time.Minute)) {
		t.Errorf("PauseSchedule = %+v, %v", p, err)
	}
	run := message.ScheduleRun{At: at(time.Hour), RanAt: at(time.Hour), Outcome: message.RunPending, BroadcastID: "bc_1"}
	if took, err := st.ClaimRun(ctx, "sch_1", run); took || !errors.Is(err, storage.ErrConflict) {
		t.Errorf("ClaimRun of a paused schedule = %v, %v; want ErrConflict", took, err)
	}
	if _, err := st.PauseSchedule(ctx, "sch_1", false, at(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if took, err := st.ClaimRun(ctx, "sch_1", run); !took || err != nil {
		t.Fatalf("ClaimRun = %v, %v; want taken", took, err)
	}
	// The same run, or an earlier one, again: not taken.
	for _, again := range []time.Time{at(time.Hour), at(time.Minute)} {
		r := run
		r.At = again
		if took, err := st.ClaimRun(ctx, "sch_1", r); took || err != nil {
			t.Errorf("ClaimRun at %v after the run at %v = %v, %v; want not taken", again, run.At, took, err)
		}
	}
	if err := st.FinishRun(ctx, "sch_1", at(time.Hour), message.RunCreated, "bc_1", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishRun(ctx, "sch_1", at(3*time.Hour), message.RunCreated, "", ""); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("FinishRun of no run = %v, want ErrNotFound", err)
	}
	got, _ = st.Schedule(ctx, "sch_1")
	if len(got.Runs) != 1 || got.Runs[0].Outcome != message.RunCreated || got.Runs[0].BroadcastID != "bc_1" ||
		!got.LastRunAt.Equal(at(time.Hour)) || !got.Runs[0].At.Equal(at(time.Hour)) {
		t.Errorf("after a run: %+v", got)
	}
	// History: newest first, capped.
	for i := 2; i <= message.MaxScheduleRuns+5; i++ {
		r := message.ScheduleRun{At: at(time.Duration(i) * time.Hour), RanAt: at(time.Duration(i) * time.Hour), Outcome: message.RunSkipped}
		if took, err := st.ClaimRun(ctx, "sch_1", r); !took || err != nil {
			t.Fatalf("ClaimRun %d = %v, %v", i, took, err)
		}
	}
	got, _ = st.Schedule(ctx, "sch_1")
	if len(got.Runs) != message.MaxScheduleRuns || !got.Runs[0].At.Equal(at(time.Duration(message.MaxScheduleRuns+5)*time.Hour)) {
		t.Errorf("history holds %d runs, newest %v; want %d, newest first", len(got.Runs), got.Runs[0].At, message.MaxScheduleRuns)
	}

	if err := st.DeleteSchedule(ctx, "sch_1"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSchedule(ctx, "sch_1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("second DeleteSchedule = %v, want ErrNotFound", err)
	}
	if _, err := st.ClaimRun(ctx, "sch_1", run); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ClaimRun of a deleted schedule = %v, want ErrNotFound", err)
	}
}

// testScheduleClaimConcurrent: of many concurrent claims of one run
// exactly one is taken.
func testScheduleClaimConcurrent(t *testing.T, s storage.Store) {
	ctx := context.Background()
	st := schedules(t, s)
	if err := st.CreateSchedule(ctx, newSchedule("sch_c", "app1")); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		runAt := at(time.Duration(round+1) * time.Hour)
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			taken int
		)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				took, err := st.ClaimRun(ctx, "sch_c", message.ScheduleRun{At: runAt, RanAt: runAt,
					Outcome: message.RunPending, BroadcastID: fmt.Sprintf("bc_%d_%d", round, i)})
				if err != nil {
					t.Errorf("ClaimRun: %v", err)
				}
				if took {
					mu.Lock()
					taken++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if taken != 1 {
			t.Errorf("round %d: %d claims of one run taken, want 1", round, taken)
		}
	}
	got, _ := st.Schedule(ctx, "sch_c")
	if len(got.Runs) != 5 {
		t.Errorf("%d runs recorded, want 5", len(got.Runs))
	}
}
