// Package stats records what a load run measured, request by request:
// exact latency percentiles (HDR histograms, not estimates), how late each
// request left against its schedule, the achieved rate of each step,
// status codes, business codes, per-kind outcomes and a latency timeline
// for the HTML plot.
//
// A Recorder is fed from one goroutine (the loop that drains vegeta's
// results); Snapshot may be called from another at any time (progress).
package stats

import (
	"maps"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: 1µs to 5 minutes at 3 significant digits, so every
// latency a request can have (the client timeout is lower) is recorded
// exactly to 0.1 %.
const (
	minMicros = 1
	maxMicros = int64(5 * time.Minute / time.Microsecond)
	sigFigs   = 3
)

func newHist() *hdr.Histogram { return hdr.New(minMicros, maxMicros, sigFigs) }

// record clamps into the histogram's range.
func record(h *hdr.Histogram, d time.Duration) {
	us := max(min(d.Microseconds(), maxMicros), minMicros)
	_ = h.RecordValue(us) // in range by construction
}

// Sample is one answered (or failed) request.
type Sample struct {
	Step    int           // index of the schedule step the request belongs to
	Start   time.Time     // when it left
	Latency time.Duration // until its answer was read
	Lag     time.Duration // Start minus when it was due (>= 0 in practice)
	Status  int           // HTTP status; 0 on a transport error
	Kind    string        // scenario kind
	OK      bool          // the answer was the expected one
	Codes   []string      // business codes of the answer (API rules, platform errcodes)
}

// Recorder accumulates samples.
type Recorder struct {
	began  time.Time
	bucket time.Duration

	mu        sync.Mutex
	steps     []*stepStats
	latency   *hdr.Histogram // all steps
	lag       *hdr.Histogram
	requests  int
	errors    int
	status    map[int]int
	business  map[string]int
	kinds     map[string]*KindCounts
	timeline  []*bucket
	lastStart time.Time
}

type stepStats struct {
	n           int
	errors      int
	first, last time.Time
	latency     *hdr.Histogram
}

type bucket struct {
	n, errors int
	latency   *hdr.Histogram
}

// KindCounts are the outcomes of one kind of request.
type KindCounts struct {
	Requests int `json:"requests"`
	OK       int `json:"as_expected"`
	Errors   int `json:"errors"`
}

// New returns a recorder for a run that began at began with the given
// number of schedule steps; the timeline has one bucket per bucketWidth.
func New(began time.Time, steps int, bucketWidth time.Duration) *Recorder {
	r := &Recorder{began: began, bucket: max(bucketWidth, time.Millisecond), latency: newHist(), lag: newHist(),
		status: map[int]int{}, business: map[string]int{}, kinds: map[string]*KindCounts{}}
	for range max(steps, 1) {
		r.steps = append(r.steps, &stepStats{latency: newHist()})
	}
	return r
}

// Add records one sample.
func (r *Recorder) Add(s Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if !s.OK {
		r.errors++
	}
	record(r.latency, s.Latency)
	record(r.lag, s.Lag)
	r.status[s.Status]++
	for _, c := range s.Codes {
		r.business[c]++
	}
	k := r.kinds[s.Kind]
	if k == nil {
		k = &KindCounts{}
		r.kinds[s.Kind] = k
	}
	k.Requests++
	if s.OK {
		k.OK++
	} else {
		k.Errors++
	}
	st := r.steps[min(max(s.Step, 0), len(r.steps)-1)]
	st.n++
	if !s.OK {
		st.errors++
	}
	if st.first.IsZero() || s.Start.Before(st.first) {
		st.first = s.Start
	}
	if s.Start.After(st.last) {
		st.last = s.Start
	}
	record(st.latency, s.Latency)
	i := max(int(s.Start.Sub(r.began)/r.bucket), 0)
	for len(r.timeline) <= i {
		r.timeline = append(r.timeline, &bucket{latency: hdr.New(minMicros, maxMicros, 2)})
	}
	b := r.timeline[i]
	b.n++
	if !s.OK {
		b.errors++
	}
	record(b.latency, s.Latency)
	if s.Start.After(r.lastStart) {
		r.lastStart = s.Start
	}
}

// Latency summarises a histogram, in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func summarise(h *hdr.Histogram) Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	if h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()), Mean: h.Mean() / 1000}
}

// Step is the summary of one schedule step.
type Step struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	Rate     float64 `json:"rate"` // achieved: requests per second between the first and last start
	Latency  Latency `json:"latency_ms"`
}

// Point is one timeline bucket.
type Point struct {
	At       float64 `json:"at_s"` // bucket start, seconds since the run began
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
}

// Snapshot is everything recorded so far.
type Snapshot struct {
	Requests int
	Errors   int
	Latency  Latency // every step
	Lag      Latency
	Steps    []Step
	Status   map[int]int
	Business map[string]int
	Kinds    map[string]KindCounts
	Timeline []Point
	// Bucket is the width of a timeline point.
	Bucket time.Duration
}

// Snapshot summarises the samples so far.
func (r *Recorder) Snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Snapshot{Requests: r.requests, Errors: r.errors, Latency: summarise(r.latency), Lag: summarise(r.lag),
		Status: maps.Clone(r.status), Business: maps.Clone(r.business), Kinds: map[string]KindCounts{}, Bucket: r.bucket}
	for k, v := range r.kinds {
		s.Kinds[k] = *v
	}
	for _, st := range r.steps {
		s.Steps = append(s.Steps, Step{Requests: st.n, Errors: st.errors, Rate: achieved(st.n, st.first, st.last),
			Latency: summarise(st.latency)})
	}
	for i, b := range r.timeline {
		p := Point{At: (time.Duration(i) * r.bucket).Seconds(), Requests: b.n, Errors: b.errors}
		if b.n > 0 {
			l := summarise(b.latency)
			p.P50, p.P99, p.Max = l.P50, l.P99, l.Max
		}
		s.Timeline = append(s.Timeline, p)
	}
	return s
}

// achieved is the rate of n requests whose starts span first..last: n-1
// intervals over the span, which is exactly the scheduled rate when every
// request left on time.
func achieved(n int, first, last time.Time) float64 {
	span := last.Sub(first).Seconds()
	if n < 2 || span <= 0 {
		return 0
	}
	return float64(n-1) / span
}

// Window is a live view for a progress line: the requests that started in
// the last width before the newest one.
type Window struct {
	Requests int
	Errors   int // all errors so far
	Rate     float64
	P99      float64 // ms, over the window's buckets
}

// Live summarises the newest complete timeline buckets covering at least
// width (cheap enough to call once a second).
func (r *Recorder) Live(width time.Duration) Window {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := Window{Requests: r.requests, Errors: r.errors}
	if len(r.timeline) < 2 {
		return w
	}
	n := max(int(width/r.bucket), 1)
	// Skip the newest bucket: it is still filling.
	end := len(r.timeline) - 1
	start := max(end-n, 0)
	h := hdr.New(minMicros, maxMicros, 2)
	count := 0
	for _, b := range r.timeline[start:end] {
		h.Merge(b.latency)
		count += b.n
	}
	if span := time.Duration(end-start) * r.bucket; span > 0 {
		w.Rate = float64(count) / span.Seconds()
	}
	w.P99 = float64(h.ValueAtQuantile(99)) / 1000
	return w
}
