package writehealth_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/storage/writehealth"
)

func TestState(t *testing.T) {
	t.Parallel()
	h := writehealth.Tracker{What: "write to Redis"}
	t0 := time.Now()
	if err := h.State(t0); err != nil {
		t.Fatalf("no writes yet: %v, want healthy", err)
	}
	disk := errors.New("disk full")
	h.Failed(t0, disk)
	err := h.State(t0.Add(time.Second))
	if !errors.Is(err, disk) || !strings.Contains(err.Error(), "the last write to Redis failed 1s ago") {
		t.Fatalf("after a failure: %v", err)
	}
	// One write slipping through does not flip it back at once.
	h.OK(t0.Add(1500 * time.Millisecond))
	if err := h.State(t0.Add(1600 * time.Millisecond)); err == nil {
		t.Fatal("healthy 0.1 s after one good write following a failure, want RecoverAfter to pass first")
	}
	if err := h.State(t0.Add(writehealth.RecoverAfter)); err != nil {
		t.Fatalf("RecoverAfter after the failure with a good write since: %v, want healthy", err)
	}
	if got := h.LastWrite(); !got.Equal(t0.Add(1500 * time.Millisecond)) {
		t.Errorf("LastWrite = %v, want the good write's time", got)
	}
	h.Failed(t0.Add(3*time.Second), disk)
	if err := h.State(t0.Add(10 * time.Second)); err == nil {
		t.Error("a failure with no good write since reads healthy")
	}
}

// Probe writes while unhealthy, every ProbeUnhealthy, and stops when told.
func TestProbeWhileUnhealthy(t *testing.T) {
	t.Parallel()
	var h writehealth.Tracker
	h.Failed(time.Now(), errors.New("gone"))
	var n atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go h.Probe(stop, done, func(now time.Time) {
		if n.Add(1) == 2 {
			h.OK(now)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for n.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	<-done
	if n.Load() < 2 {
		t.Fatalf("%d probe writes in 10 s while unhealthy, want one a second", n.Load())
	}
}
