package ring_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/ring"
)

func TestRingDropsOldest(t *testing.T) {
	t.Parallel()
	r := ring.New[int](3)
	for i := 1; i <= 5; i++ {
		r.Append(i)
	}
	got, total := r.Filter(nil, 0, 0)
	if total != 3 || len(got) != 3 || got[0] != 3 || got[2] != 5 {
		t.Fatalf("got %v total %d, want [3 4 5]", got, total)
	}
	if r.Dropped() != 2 || r.Total() != 5 {
		t.Fatalf("dropped %d total %d, want 2 and 5", r.Dropped(), r.Total())
	}
	even := func(v *int) bool { return *v%2 == 0 }
	if got, total := r.Filter(even, 0, 0); total != 1 || got[0] != 4 {
		t.Fatalf("even: got %v total %d", got, total)
	}
	if got, total := r.Filter(nil, 1, 1); total != 3 || len(got) != 1 || got[0] != 4 {
		t.Fatalf("offset/limit: got %v total %d", got, total)
	}
	r.Reset()
	if r.Len() != 0 || r.Total() != 0 {
		t.Fatalf("after reset len %d total %d", r.Len(), r.Total())
	}
}

func TestWaitReturnsWhenEnoughArrive(t *testing.T) {
	t.Parallel()
	r := ring.New[int](100)
	r.Append(1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 2; i <= 10; i++ {
			r.Append(i)
			time.Sleep(time.Millisecond)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.Wait(ctx, func(v *int) bool { return *v > 5 }, 5)
	if ctx.Err() != nil {
		t.Fatal("wait timed out although 5 matching entries arrived")
	}
	_, n := r.Filter(func(v *int) bool { return *v > 5 }, 0, 0)
	if n < 5 {
		t.Fatalf("wait returned with %d matches, want >= 5", n)
	}
	wg.Wait()
}

func TestWaitGivesUpAtDeadline(t *testing.T) {
	t.Parallel()
	r := ring.New[int](10)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	r.Wait(ctx, nil, 1)
	if ctx.Err() == nil {
		t.Fatal("wait returned before its deadline with no entries")
	}
}

// waitAsync runs Wait in a goroutine and reports on the returned channel
// when it comes back.
func waitAsync(r *ring.Ring[int], ctx context.Context, match func(*int) bool, min int) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		r.Wait(ctx, match, min)
		close(done)
	}()
	return done
}

func even(v *int) bool { return *v%2 == 0 }

func TestWaitEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cap  int
		held []int // appended before Wait starts
		min  int
		// then runs after Wait has started (it has had time to block)
		then func(r *ring.Ring[int])
		// returns: whether Wait must come back before its 300ms deadline
		returns bool
	}{
		{name: "enough held already", cap: 10, held: []int{2, 4}, min: 2, returns: true},
		{name: "min zero", cap: 10, min: 0, returns: true},
		{name: "not enough and nothing arrives", cap: 10, held: []int{2}, min: 2, returns: false},
		{name: "arrivals complete the count", cap: 10, held: []int{2}, min: 3,
			then: func(r *ring.Ring[int]) { r.Append(1); r.Append(4); r.Append(6) }, returns: true},
		{name: "non-matching arrivals do not count", cap: 10, held: []int{2}, min: 2,
			then: func(r *ring.Ring[int]) { r.Append(1); r.Append(3); r.Append(5) }, returns: false},
		// Matches evicted while waiting no longer count: afterwards only one
		// even entry is held although three were seen.
		{name: "evicted matches do not count", cap: 3, held: []int{2, 4}, min: 3,
			then: func(r *ring.Ring[int]) { r.Append(1); r.Append(3); r.Append(6) }, returns: false},
		// A reset forgets what was counted, even when enough new entries
		// arrive to bring the sequence number back past where it was.
		{name: "reset forgets counted entries", cap: 10, held: []int{2, 4}, min: 3,
			then: func(r *ring.Ring[int]) { r.Reset(); r.Append(1); r.Append(3); r.Append(6) }, returns: false},
		{name: "after reset new matches count", cap: 10, held: []int{2, 4}, min: 2,
			then: func(r *ring.Ring[int]) { r.Reset(); r.Append(6); r.Append(8) }, returns: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := ring.New[int](tc.cap)
			for _, v := range tc.held {
				r.Append(v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			done := waitAsync(r, ctx, even, tc.min)
			if tc.then != nil {
				time.Sleep(20 * time.Millisecond) // let Wait block first
				tc.then(r)
			}
			<-done
			early := ctx.Err() == nil
			if early != tc.returns {
				t.Fatalf("Wait returned before its deadline: %v, want %v", early, tc.returns)
			}
			if early {
				if _, n := r.Filter(even, 0, 0); n < tc.min {
					t.Fatalf("Wait returned with %d matches held, want >= %d", n, tc.min)
				}
			}
		})
	}
}

func TestFilterOffsetLimit(t *testing.T) {
	t.Parallel()
	r := ring.New[int](10)
	for i := 1; i <= 6; i++ {
		r.Append(i)
	}
	tests := []struct {
		offset, limit int
		want          []int
	}{
		{0, 0, []int{2, 4, 6}},
		{1, 0, []int{4, 6}},
		{0, 2, []int{2, 4}},
		{2, 5, []int{6}},
		{3, 0, nil},
		{9, 1, nil},
	}
	for _, tc := range tests {
		got, total := r.Filter(even, tc.offset, tc.limit)
		if total != 3 || !slices.Equal(got, tc.want) {
			t.Errorf("Filter(even, %d, %d) = %v, %d; want %v, 3", tc.offset, tc.limit, got, total, tc.want)
		}
	}
}

func TestAppendReturnsSequence(t *testing.T) {
	t.Parallel()
	r := ring.New[string](2)
	for i, want := range []uint64{0, 1, 2} {
		if got := r.Append("x"); got != want {
			t.Fatalf("append %d: seq %d, want %d", i, got, want)
		}
	}
	r.Reset()
	if got := r.Append("y"); got != 0 {
		t.Fatalf("after reset: seq %d, want 0", got)
	}
	if r.Dropped() != 0 || r.Len() != 1 {
		t.Fatalf("after reset: dropped %d len %d", r.Dropped(), r.Len())
	}
}

func TestNewClampsCapacity(t *testing.T) {
	t.Parallel()
	r := ring.New[int](0)
	r.Append(1)
	r.Append(2)
	if got, _ := r.Filter(nil, 0, 0); !slices.Equal(got, []int{2}) || r.Dropped() != 1 {
		t.Fatalf("capacity 0 ring holds %v (dropped %d), want [2] (1)", got, r.Dropped())
	}
}

func TestConcurrentAppendAndWait(t *testing.T) {
	t.Parallel()
	r := ring.New[int](50)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				r.Append(i)
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.Wait(ctx, nil, 50)
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("Wait did not see 50 entries out of 800 appended")
	}
	if r.Total() != 800 || r.Len() != 50 || r.Dropped() != 750 {
		t.Fatalf("total %d len %d dropped %d, want 800 50 750", r.Total(), r.Len(), r.Dropped())
	}
}

func TestGrowsPastInitialSizeThenWraps(t *testing.T) {
	t.Parallel()
	r := ring.New[int](40)
	for i := range 100 {
		r.Append(i)
	}
	got, total := r.Filter(nil, 0, 0)
	if total != 40 || got[0] != 60 || got[39] != 99 || r.Dropped() != 60 {
		t.Fatalf("held %d from %d to %d, dropped %d; want 40 from 60 to 99, dropped 60", total, got[0], got[len(got)-1], r.Dropped())
	}
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1]+1 {
			t.Fatalf("out of order at %d: %v", i, got)
		}
	}
}

// An idle ring must not hold its capacity in memory: every mock server has
// two 100,000-entry rings and tests start hundreds of servers. Not parallel,
// so that other tests' allocations do not count.
func TestEmptyRingCostsNoMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := ring.New[[256]byte](100_000)
	r.Append([256]byte{})
	r.Reset()
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("a 100,000-entry ring with one entry allocated %d bytes", grew)
	}
}

func TestAppendFuncNumbersUnderTheLock(t *testing.T) {
	t.Parallel()
	r := ring.New[uint64](1000)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				r.AppendFunc(func(seq uint64) uint64 { return seq + 1 })
			}
		}()
	}
	wg.Wait()
	got, _ := r.Filter(nil, 0, 0)
	for i, v := range got {
		if v != uint64(i+1) {
			t.Fatalf("entry %d numbered %d: numbers must follow the order of appending", i, v)
		}
	}
}

func TestTailThenSinceMissesNothing(t *testing.T) {
	t.Parallel()
	r := ring.New[int](4)
	even := func(v *int) bool { return *v%2 == 0 }
	if got, c := r.Tail(nil, 3); len(got) != 0 || c != (ring.Cursor{}) {
		t.Fatalf("empty ring: tail %v cursor %+v", got, c)
	}
	for i := 1; i <= 6; i++ { // holds 3 4 5 6
		r.Append(i)
	}
	got, c := r.Tail(nil, 2)
	if !slices.Equal(got, []int{5, 6}) || c.Seq != 6 {
		t.Fatalf("tail 2: %v cursor %+v, want [5 6] at 6", got, c)
	}
	if got, _ := r.Tail(even, 0); !slices.Equal(got, []int{4, 6}) {
		t.Fatalf("tail of evens: %v", got)
	}
	ch := r.Changed()
	if got, next, reset := r.Since(c, nil, 0); len(got) != 0 || next != c || reset {
		t.Fatalf("nothing new: %v %+v %v", got, next, reset)
	}
	select {
	case <-ch:
		t.Fatal("Changed fired without an append")
	default:
	}
	r.Append(7)
	r.Append(8)
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Changed did not fire on append")
	}
	got, next, reset := r.Since(c, even, 0)
	if !slices.Equal(got, []int{8}) || next.Seq != 8 || reset {
		t.Fatalf("since: %v %+v %v, want [8] at 8", got, next, reset)
	}
	// A limit stops at the limit; the cursor says where to go on.
	if got, n, _ := r.Since(c, nil, 1); !slices.Equal(got, []int{7}) || n.Seq != 7 {
		t.Fatalf("since with limit: %v %+v", got, n)
	}
	// A reader that fell behind the eviction skips what is gone.
	for i := 9; i <= 20; i++ {
		r.Append(i)
	}
	if got, n, _ := r.Since(next, nil, 0); !slices.Equal(got, []int{17, 18, 19, 20}) || n.Seq != 20 {
		t.Fatalf("after eviction: %v %+v", got, n)
	}
	// A reset starts a new epoch: old cursors read it from the start.
	ch = r.Changed()
	r.Reset()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Changed did not fire on reset")
	}
	r.Append(100)
	got, n, reset := r.Since(next, nil, 0)
	if !reset || !slices.Equal(got, []int{100}) || n.Seq != 1 || n.Epoch == next.Epoch {
		t.Fatalf("after reset: %v %+v reset=%v", got, n, reset)
	}
}

// AppendStamped stamps each entry with its own sequence number, also once
// the ring is full and entries replace the oldest, and when appended
// concurrently: every held entry carries the number of its place.
func TestAppendStampedStampsInPlace(t *testing.T) {
	t.Parallel()
	type entry struct{ seq uint64 }
	r := ring.New[entry](50)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				r.AppendStamped(entry{}, func(e *entry, seq uint64) { e.seq = seq + 1 })
			}
		}()
	}
	wg.Wait()
	got, total := r.Filter(nil, 0, 0)
	if total != 50 || r.Total() != 160 {
		t.Fatalf("held %d of %d, want 50 of 160", total, r.Total())
	}
	for i, e := range got {
		if want := uint64(111 + i); e.seq != want {
			t.Fatalf("entry %d stamped %d, want %d", i, e.seq, want)
		}
	}
}

// A ring larger than one chunk of storage, its capacity not a multiple of
// the chunk size, keeps the newest entries in order while it fills and
// after it wraps.
func TestRingAcrossChunks(t *testing.T) {
	t.Parallel()
	r := ring.New[int](2500)
	for i := range 6000 {
		r.Append(i)
		if i == 1500 {
			got, total := r.Filter(nil, 0, 0)
			if total != 1501 || got[0] != 0 || got[1500] != 1500 {
				t.Fatalf("filling: %d held, first %d, last %d", total, got[0], got[len(got)-1])
			}
		}
	}
	got, total := r.Filter(nil, 0, 0)
	if total != 2500 || r.Dropped() != 3500 {
		t.Fatalf("held %d, dropped %d; want 2500 and 3500", total, r.Dropped())
	}
	for i, v := range got {
		if v != 3500+i {
			t.Fatalf("entry %d is %d, want %d", i, v, 3500+i)
		}
	}
	tail, _ := r.Tail(nil, 3)
	if !slices.Equal(tail, []int{5997, 5998, 5999}) {
		t.Fatalf("tail %v", tail)
	}
}
