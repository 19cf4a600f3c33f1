// Package threshold parses and judges the pass/fail gates of a load run:
// "p99<50ms", "lost==0", "rate>=495", "error_rate<1%".
//
// A threshold is a metric name, a comparison and a value with an optional
// unit. Values are converted to the metric's canonical unit when parsed
// (milliseconds for latencies, a fraction for ratios), so judging is a plain
// float comparison. A threshold on a metric the run did not measure (say
// "duplicated==0" when no inbox was available) fails: a gate that cannot
// be checked must not pass silently.
package threshold

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind is what a metric measures, which decides the units it accepts.
type Kind int

// Kinds of metric.
const (
	Duration Kind = iota // milliseconds; units ns, us, µs, ms, s, m (bare number = ms)
	Count                // a whole number of requests or messages; no unit
	Rate                 // per second; unit "/s" optional
	Ratio                // a fraction 0..1; unit "%" divides by 100
)

// Metrics lists every metric a threshold may name and its kind. The
// latency metrics describe the steady step of the run (the -rate step
// after any ramp); counts cover the whole run.
var Metrics = map[string]Kind{
	"p50": Duration, "p90": Duration, "p99": Duration, "p999": Duration, "max": Duration, "mean": Duration,
	// lag: how late requests left compared with the schedule (a
	// generator falling behind shows here before it shows in rate).
	"lag_p99": Duration, "lag_max": Duration,
	"rate":          Rate,  // achieved request rate of the steady step
	"requests":      Count, // requests sent, all steps
	"errors":        Count, // answers that differ from the expected outcome (incl. transport errors)
	"error_rate":    Ratio, // errors / requests
	"accepted":      Count, // messages the target accepted for delivery
	"delivered":     Count, // accepted messages found in the inbox (or reported delivered)
	"rejected":      Count, // requests refused as expected, all rules
	"lost":          Count, // messages that should have been delivered and were not
	"duplicated":    Count, // extra copies of a message in the inbox
	"token_fetches": Count, // the sender's access-token fetches during the run
	"unexpected":    Count, // inbox messages of this run that should not be there
	"pending":       Count, // accepted messages still not final when the drain ended
	// status_mismatch: accepted messages whose final status in the sender
	// differs from the expected one (e.g. a no-grant message not failed
	// with 43101).
	"status_mismatch": Count,
	// rejections_missed: requests that should have been refused and were
	// not, or were refused for another rule.
	"rejections_missed": Count,
}

// aliases map other spellings to metric names.
var aliases = map[string]string{"p99.9": "p999", "median": "p50", "err_rate": "error_rate"}

// Op is a comparison.
type Op string

// Comparisons, longest first so parsing finds "<=" before "<".
const (
	LE Op = "<="
	GE Op = ">="
	EQ Op = "=="
	NE Op = "!="
	LT Op = "<"
	GT Op = ">"
)

var ops = []Op{LE, GE, EQ, NE, LT, GT}

// Threshold is one parsed gate.
type Threshold struct {
	Raw    string // as written, trimmed: the name used in reports
	Metric string
	Op     Op
	// Value in the metric's canonical unit (ms, count, per second, fraction).
	Value float64
}

// Parse reads "metric op value[unit]". Spaces are allowed around the
// parts. Errors name what is wrong.
func Parse(s string) (Threshold, error) {
	raw := strings.TrimSpace(s)
	if raw == "" {
		return Threshold{}, errors.New("empty threshold: want metric, comparison and value, e.g. p99<50ms")
	}
	at, op := -1, Op("")
	for i := 0; i < len(raw) && at < 0; i++ {
		for _, o := range ops {
			if strings.HasPrefix(raw[i:], string(o)) {
				at, op = i, o
				break
			}
		}
	}
	if at < 0 {
		// "=" alone is a common slip for "==".
		if strings.Contains(raw, "=") {
			return Threshold{}, fmt.Errorf("threshold %q: use == to compare for equality", raw)
		}
		return Threshold{}, fmt.Errorf("threshold %q: no comparison (one of < <= > >= == !=)", raw)
	}
	name := strings.ToLower(strings.TrimSpace(raw[:at]))
	if a, ok := aliases[name]; ok {
		name = a
	}
	kind, ok := Metrics[name]
	if !ok {
		if name == "" {
			return Threshold{}, fmt.Errorf("threshold %q: no metric before %s", raw, op)
		}
		return Threshold{}, fmt.Errorf("threshold %q: unknown metric %q (known: %s)", raw, name, strings.Join(Names(), ", "))
	}
	val := strings.TrimSpace(raw[at+len(op):])
	if val == "" {
		return Threshold{}, fmt.Errorf("threshold %q: no value after %s", raw, op)
	}
	v, err := parseValue(kind, val)
	if err != nil {
		return Threshold{}, fmt.Errorf("threshold %q: %s %w", raw, name, err)
	}
	return Threshold{Raw: raw, Metric: name, Op: op, Value: v}, nil
}

// Names lists the metric names, sorted.
func Names() []string {
	out := make([]string, 0, len(Metrics))
	for k := range Metrics {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var durationUnits = []struct {
	suffix string
	ms     float64
}{{"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 60e3}}

func parseValue(kind Kind, s string) (float64, error) {
	number := func(n string) (float64, error) {
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("value %q is not a number", n)
		}
		return f, nil
	}
	switch kind {
	case Duration:
		// Two-letter units come first in durationUnits, so "5ms" is not
		// read as 5m followed by "s".
		bad := fmt.Errorf("value %q: want a duration such as 50ms, 1.5s or 800us", s)
		for _, u := range durationUnits {
			if n, ok := strings.CutSuffix(s, u.suffix); ok {
				f, err := number(n)
				if err != nil {
					return 0, bad
				}
				return f * u.ms, nil
			}
		}
		f, err := number(s)
		if err != nil {
			return 0, bad
		}
		return f, nil // bare number: milliseconds
	case Rate:
		n := strings.TrimSuffix(strings.TrimSuffix(s, "/s"), "rps")
		return number(n)
	case Ratio:
		if n, ok := strings.CutSuffix(s, "%"); ok {
			f, err := number(n)
			return f / 100, err
		}
		f, err := number(s)
		if err == nil && f > 1 {
			return 0, fmt.Errorf("value %v is a fraction 0..1; write %v%% for a percentage", f, f)
		}
		return f, err
	default: // Count
		f, err := number(s)
		if err != nil {
			return 0, fmt.Errorf("value %q: want a whole number", s)
		}
		if f != math.Trunc(f) {
			return 0, fmt.Errorf("value %v: want a whole number", f)
		}
		return f, nil
	}
}

// Holds reports whether actual satisfies the threshold.
func (t Threshold) Holds(actual float64) bool {
	switch t.Op {
	case LT:
		return actual < t.Value
	case LE:
		return actual <= t.Value
	case GT:
		return actual > t.Value
	case GE:
		return actual >= t.Value
	case EQ:
		return actual == t.Value
	case NE:
		return actual != t.Value
	}
	return false
}

// Result is one judged threshold.
type Result struct {
	Threshold
	Actual   float64
	Measured bool
	Pass     bool
}

// Evaluate judges every threshold against the measured values (canonical
// units, keyed by metric name). A metric missing from values fails its
// thresholds.
func Evaluate(ts []Threshold, values map[string]float64) []Result {
	out := make([]Result, len(ts))
	for i, t := range ts {
		v, ok := values[t.Metric]
		out[i] = Result{Threshold: t, Actual: v, Measured: ok, Pass: ok && t.Holds(v)}
	}
	return out
}

// Breached returns the results that failed.
func Breached(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if !r.Pass {
			out = append(out, r)
		}
	}
	return out
}

// Format renders a value of a metric in its natural unit ("12.3ms", "0.5%",
// "499.8/s", "3").
func Format(metric string, v float64) string {
	switch Metrics[metric] {
	case Duration:
		return FormatMS(v)
	case Rate:
		return strconv.FormatFloat(v, 'f', 1, 64) + "/s"
	case Ratio:
		return strconv.FormatFloat(v*100, 'g', 4, 64) + "%"
	default:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
}

// FormatMS renders milliseconds with a unit that keeps 3 significant digits.
func FormatMS(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case ms >= 1000:
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + "s"
	case ms >= 1:
		return strconv.FormatFloat(ms, 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64) + "µs"
	}
}

// Describe says how a result came out: "p99<50ms: 12.30ms" or
// "p99<50ms: 63.10ms (want < 50.00ms)" or "not measured".
func (r Result) Describe() string {
	if !r.Measured {
		return r.Raw + ": not measured in this run"
	}
	s := r.Raw + ": " + r.Metric + " = " + Format(r.Metric, r.Actual)
	if !r.Pass {
		s += " (want " + string(r.Op) + " " + Format(r.Metric, r.Value) + ")"
	}
	return s
}
