package ring_test

import (
	"context"
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
