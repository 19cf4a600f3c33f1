package ratelimit_test

import (
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/ratelimit"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestPerUserIntervalDelaysNotDrops(t *testing.T) {
	t.Parallel()
	s := ratelimit.New(0, 0, time.Second)
	if ok, _, _ := s.Admit("u1", t0, 0); !ok {
		t.Fatal("first send to u1 refused")
	}
	ok, _, retry := s.Admit("u1", t0.Add(300*time.Millisecond), 0)
	if ok || !retry.Equal(t0.Add(time.Second)) {
		t.Fatalf("second send within 1s: ok=%v retryAt=%v, want refused until %v", ok, retry, t0.Add(time.Second))
	}
	if ok, _, _ := s.Admit("u2", t0.Add(300*time.Millisecond), 0); !ok {
		t.Fatal("another user must not be delayed")
	}
	if ok, _, _ := s.Admit("u1", t0.Add(time.Second), 0); !ok {
		t.Fatal("u1 refused after its interval passed")
	}
}

func TestAppRateReturnsRetryTime(t *testing.T) {
	t.Parallel()
	s := ratelimit.New(10, 1, 0) // one token, 10/s refill
	if ok, wait, _ := s.Admit("a", t0, 0); !ok || wait != 0 {
		t.Fatalf("first: ok=%v wait=%v", ok, wait)
	}
	ok, _, retry := s.Admit("b", t0, 0)
	if ok {
		t.Fatal("second send in the same instant admitted past a burst of 1")
	}
	if d := retry.Sub(t0); d < 90*time.Millisecond || d > 110*time.Millisecond {
		t.Fatalf("retry after %v, want ~100ms", d)
	}
	// With a wait budget the caller is told to sleep instead.
	ok, wait, _ := s.Admit("c", t0, 200*time.Millisecond)
	if !ok || wait < 90*time.Millisecond {
		t.Fatalf("with budget: ok=%v wait=%v, want admitted with ~100ms wait", ok, wait)
	}
}

func TestPauseHoldsEveryUser(t *testing.T) {
	t.Parallel()
	s := ratelimit.New(0, 0, 0)
	s.Pause(t0.Add(30 * time.Second))
	ok, _, retry := s.Admit("x", t0.Add(time.Second), time.Second)
	if ok || !retry.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("paused app admitted (ok=%v retry=%v)", ok, retry)
	}
	s.Pause(t0.Add(10 * time.Second)) // an earlier pause does not shorten it
	if ok, _, _ := s.Admit("x", t0.Add(20*time.Second), 0); ok {
		t.Fatal("pause was shortened by a later, shorter pause")
	}
	if ok, _, _ := s.Admit("x", t0.Add(31*time.Second), 0); !ok {
		t.Fatal("still paused after the pause ended")
	}
}

// An operator's resume ends a pause at once; a pause synced from storage
// ends one only if it was set before the reader looked.
func TestResume(t *testing.T) {
	t.Parallel()
	s := ratelimit.New(0, 0, 0)
	s.Pause(t0.Add(time.Hour))
	if until, paused := s.Paused(t0); !paused || !until.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Paused = %v, %v", until, paused)
	}
	s.Resume()
	if _, paused := s.Paused(t0); paused {
		t.Fatal("still paused after Resume")
	}
	if ok, _, _ := s.Admit("x", t0, 0); !ok {
		t.Fatal("resumed app not admitted")
	}
	before := time.Now()
	s.Pause(t0.Add(time.Hour))
	if s.ResumeIfSetBefore(before, t0) {
		t.Fatal("a pause set after the reader looked was reported ended")
	}
	if _, paused := s.Paused(t0); !paused {
		t.Fatal("a pause set after the reader looked was ended")
	}
	if !s.ResumeIfSetBefore(time.Now().Add(time.Millisecond), t0) {
		t.Fatal("ending an active pause reported nothing ended")
	}
	if _, paused := s.Paused(t0); paused {
		t.Fatal("a pause set before the reader looked was kept")
	}
	// One that had run out by itself is not reported as ended.
	s.Pause(t0.Add(time.Second))
	if s.ResumeIfSetBefore(time.Now().Add(time.Millisecond), t0.Add(time.Minute)) {
		t.Fatal("a pause that had run out was reported ended")
	}
}
