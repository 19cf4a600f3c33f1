package stats_test

import (
	"math"
	"testing"
	"time"

	"github.com/minipush/minipush/loadtest/stats"
)

// Percentiles are exact to the histogram's 3 significant digits: 1..10000
// microseconds, one each, have p50 5ms, p99 9.9ms, p99.9 9.99ms, max 10ms.
func TestPercentiles(t *testing.T) {
	t.Parallel()
	began := time.Unix(1000, 0)
	r := stats.New(began, 1, time.Second)
	for i := 1; i <= 10_000; i++ {
		r.Add(stats.Sample{Start: began.Add(time.Duration(i) * 100 * time.Microsecond), Latency: time.Duration(i) * time.Microsecond,
			Status: 202, Kind: "valid", OK: true})
	}
	s := r.Snapshot()
	for name, c := range map[string][2]float64{
		"p50": {s.Latency.P50, 5}, "p90": {s.Latency.P90, 9}, "p99": {s.Latency.P99, 9.9},
		"p999": {s.Latency.P999, 9.99}, "max": {s.Latency.Max, 10}, "mean": {s.Latency.Mean, 5.0005},
	} {
		if math.Abs(c[0]-c[1])/c[1] > 0.001 {
			t.Errorf("%s = %vms, want %vms ±0.1%%", name, c[0], c[1])
		}
	}
	if s.Requests != 10_000 || s.Errors != 0 || s.Status[202] != 10_000 || s.Kinds["valid"].OK != 10_000 {
		t.Errorf("counts: %+v", s)
	}
}

// The achieved rate of a step counts intervals between starts: requests
// exactly 2ms apart are 500/s, whatever their number.
func TestStepRate(t *testing.T) {
	t.Parallel()
	began := time.Unix(1000, 0)
	r := stats.New(began, 2, time.Second)
	for i := range 1000 {
		r.Add(stats.Sample{Step: 0, Start: began.Add(time.Duration(i) * 10 * time.Millisecond), Latency: time.Millisecond, OK: true})
	}
	for i := range 5000 {
		r.Add(stats.Sample{Step: 1, Start: began.Add(10*time.Second + time.Duration(i)*2*time.Millisecond), Latency: time.Millisecond,
			OK: i%100 != 0, Codes: []string{"x"}})
	}
	s := r.Snapshot()
	if got := s.Steps[0].Rate; math.Abs(got-100) > 1e-6 {
		t.Errorf("step 1 rate %v, want 100", got)
	}
	if got := s.Steps[1].Rate; math.Abs(got-500) > 1e-6 {
		t.Errorf("step 2 rate %v, want 500", got)
	}
	if s.Steps[1].Errors != 50 || s.Errors != 50 || s.Business["x"] != 5000 {
		t.Errorf("errors %d/%d, business %v", s.Steps[1].Errors, s.Errors, s.Business)
	}
	if len(s.Timeline) != 20 || s.Timeline[10].Requests != 500 || s.Timeline[10].Errors != 5 || s.Timeline[0].Requests != 100 {
		t.Errorf("timeline: %d buckets, [0]=%+v [10]=%+v", len(s.Timeline), s.Timeline[0], s.Timeline[10])
	}
}

func TestLive(t *testing.T) {
	t.Parallel()
	began := time.Unix(1000, 0)
	r := stats.New(began, 1, time.Second)
	if w := r.Live(time.Second); w.Rate != 0 || w.Requests != 0 {
		t.Errorf("empty Live = %+v", w)
	}
	for i := range 300 {
		r.Add(stats.Sample{Start: began.Add(time.Duration(i) * 10 * time.Millisecond), Latency: 3 * time.Millisecond, OK: true})
	}
	// Buckets 0, 1 complete (100 each), bucket 2 filling: the window is
	// bucket 1.
	w := r.Live(time.Second)
	if w.Rate != 100 || w.Requests != 300 || math.Abs(w.P99-3) > 0.05 {
		t.Errorf("Live = %+v, want 100/s, 300 requests, p99 3ms", w)
	}
}
