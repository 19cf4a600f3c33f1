// Package pacer schedules a load run as a staircase of constant-rate steps
// (a ramp, then the steady rate) for vegeta's attacker. It is an open
// model: request n is due at a fixed time whatever happened to the
// requests before it, so a slow answer never delays the next request
// (no coordinated omission), and the schedule also tells how late each
// request actually left.
package pacer

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Step is a constant rate held for a while.
type Step struct {
	Rate     float64 // requests per second, > 0
	Duration time.Duration
}

// Steps is a vegeta.Pacer for a staircase of steps, one after the other
// with no gap.
type Steps struct {
	steps  []Step
	starts []time.Duration // start of each step
	before []float64       // requests due before each step starts
	total  time.Duration
	hits   float64 // requests due over the whole run (fractional)
}

var _ vegeta.Pacer = (*Steps)(nil)

// New builds a pacer from steps (at least one, each with a positive rate
// and duration).
func New(steps ...Step) (*Steps, error) {
	if len(steps) == 0 {
		return nil, errors.New("pacer: no steps")
	}
	p := &Steps{steps: steps}
	for i, s := range steps {
		if !(s.Rate > 0) || math.IsInf(s.Rate, 0) {
			return nil, fmt.Errorf("step %d: rate must be > 0, got %v", i+1, s.Rate)
		}
		if s.Duration <= 0 {
			return nil, fmt.Errorf("step %d: duration must be > 0, got %s", i+1, s.Duration)
		}
		p.starts = append(p.starts, p.total)
		p.before = append(p.before, p.hits)
		p.total += s.Duration
		p.hits += s.Rate * s.Duration.Seconds()
	}
	return p, nil
}

// Plan is the usual shape of a run: each ramp rate held for rampStep, then
// rate for duration.
func Plan(ramp []float64, rampStep time.Duration, rate float64, duration time.Duration) (*Steps, error) {
	steps := make([]Step, 0, len(ramp)+1)
	for _, r := range ramp {
		steps = append(steps, Step{Rate: r, Duration: rampStep})
	}
	return New(append(steps, Step{Rate: rate, Duration: duration})...)
}

// ParseRamp reads "100,250,500" into rates.
func ParseRamp(s string) ([]float64, error) {
	var out []float64
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		r, err := strconv.ParseFloat(part, 64)
		if err != nil || !(r > 0) || math.IsInf(r, 0) {
			return nil, fmt.Errorf("ramp step %q: want a rate > 0 (requests per second)", part)
		}
		out = append(out, r)
	}
	return out, nil
}

// Steps returns the steps.
func (p *Steps) Steps() []Step { return append([]Step(nil), p.steps...) }

// Total is the length of the run.
func (p *Steps) Total() time.Duration { return p.total }

// Planned is the number of requests the schedule holds.
func (p *Steps) Planned() uint64 { return uint64(math.Ceil(p.hits - 1e-9)) }

// Due is when request n (0-based) is due: request 0 at the start, then
// 1/rate apart within a step.
func (p *Steps) Due(n uint64) time.Duration {
	x := float64(n)
	i := len(p.steps) - 1
	for j := range p.steps {
		if j+1 == len(p.steps) || x < p.before[j+1] {
			i = j
			break
		}
	}
	secs := (x - p.before[i]) / p.steps[i].Rate
	return p.starts[i] + time.Duration(secs*float64(time.Second))
}

// StepAt is the index of the step running at elapsed (the last one past
// the end).
func (p *Steps) StepAt(elapsed time.Duration) int {
	for i := len(p.steps) - 1; i > 0; i-- {
		if elapsed >= p.starts[i] {
			return i
		}
	}
	return 0
}

// StepStart is when step i starts.
func (p *Steps) StepStart(i int) time.Duration { return p.starts[i] }

// Pace implements vegeta.Pacer: the wait until request number hits is due
// (zero or negative when it is late: send now), or stop after the last or
// once the schedule is over (requests still owed then are not sent: the
// shortfall shows in the achieved rate).
func (p *Steps) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if float64(hits) >= p.hits-1e-9 || elapsed >= p.total {
		return 0, true
	}
	due := p.Due(hits)
	if due >= p.total {
		return 0, true
	}
	return due - elapsed, false
}

// Rate implements vegeta.Pacer: the rate of the step at elapsed.
func (p *Steps) Rate(elapsed time.Duration) float64 {
	if elapsed >= p.total {
		return 0
	}
	return p.steps[p.StepAt(elapsed)].Rate
}
