// Package report renders the result of a load run: a text summary for
// people, JSON for scripts (stable field names, see docs/loadtest.md),
// JUnit XML for CI (one test case per threshold) and a self-contained HTML
// page with an inline SVG plot of latency over time.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/minipush/minipush/loadtest/reconcile"
	"github.com/minipush/minipush/loadtest/stats"
	"github.com/minipush/minipush/loadtest/threshold"
)

// Report is the whole outcome of a run. The JSON names are a contract:
// scripts and CI read them.
type Report struct {
	Version  int       `json:"version"`
	Target   string    `json:"target"`   // sender or mock
	Platform string    `json:"platform"` // the platform the messages go to
	Self     bool      `json:"self"`     // mock and sender started in-process
	Started  time.Time `json:"started"`
	// Duration is the length of the schedule; Elapsed the wall time of the
	// whole run including drain and reconciliation.
	DurationS float64 `json:"duration_s"`
	ElapsedS  float64 `json:"elapsed_s"`
	Mix       string  `json:"mix"`
	Seed      uint64  `json:"seed"`
	RunID     string  `json:"run_id"`

	// TargetRate is the steady step's scheduled rate (0: as fast as
	// possible); Rate what it achieved. Latency is the steady step's.
	TargetRate float64       `json:"target_rate"`
	Rate       float64       `json:"rate"`
	Requests   int           `json:"requests"`
	Planned    uint64        `json:"planned"`
	Errors     int           `json:"errors"`
	ErrorRate  float64       `json:"error_rate"`
	Latency    stats.Latency `json:"latency_ms"`
	// LatencyAll covers every step (ramp included); Lag is how late
	// requests left against the schedule.
	LatencyAll stats.Latency `json:"latency_all_ms"`
	Lag        stats.Latency `json:"lag_ms"`
	Steps      []Step        `json:"steps"`

	StatusCodes   map[string]int `json:"status_codes"`
	BusinessCodes map[string]int `json:"business_codes"`
	// ErrorExamples quote a few distinct unexpected answers (tokens
	// redacted).
	ErrorExamples []string                    `json:"error_examples,omitempty"`
	Kinds         map[string]stats.KindCounts `json:"kinds"`

	// The reconciliation counts, flattened for scripts, and in full.
	Accepted   int `json:"accepted"`
	Delivered  int `json:"delivered"`
	Rejected   int `json:"rejected"`
	Lost       int `json:"lost"`
	Duplicated int `json:"duplicated"`
	// TokenFetches is the sender's access-token fetches during the run
	// (minipush_token_fetches_total, every result; nil: not read — the
	// mock target, or no /metrics). A token storm must not turn into a
	// fetch per rejected send (docs/delivery.md "Token discipline").
	TokenFetches *int `json:"token_fetches,omitempty"`
	// SenderRetries is the sender's retried attempts during the run by
	// outcome (retryable, throttled, token): what the platform's faults
	// cost (minipush_send_retries_total).
	SenderRetries  map[string]int   `json:"sender_retries,omitempty"`
	Reconciliation reconcile.Result `json:"reconciliation"`
	// Drain is how long the sender took to empty its queue after the
	// last request; DrainTimedOut is set when it did not.
	DrainS        float64 `json:"drain_s"`
	DrainTimedOut bool    `json:"drain_timed_out"`
	// DrainPending counts the messages not final when the drain timed
	// out; DrainTimeoutS is the wait allowed.
	DrainPending  int     `json:"drain_pending"`
	DrainTimeoutS float64 `json:"drain_timeout_s"`

	Thresholds []ThresholdResult `json:"thresholds"`
	Passed     bool              `json:"passed"`

	// LoadAverage is /proc/loadavg (1, 5, 15 minutes) at the start and end:
	// the machine is shared, and figures mean little without it.
	LoadAverageStart []float64 `json:"load_average_start,omitempty"`
	LoadAverageEnd   []float64 `json:"load_average_end,omitempty"`
	CPUs             int       `json:"cpus"`

	Timeline []stats.Point `json:"timeline"`
	BucketS  float64       `json:"timeline_bucket_s"`
	Notes    []string      `json:"notes,omitempty"`
}

// Step is one schedule step's outcome.
type Step struct {
	TargetRate float64 `json:"target_rate"`
	DurationS  float64 `json:"duration_s"`
	stats.Step
}

// ThresholdResult is one judged threshold.
type ThresholdResult struct {
	Threshold string  `json:"threshold"`
	Metric    string  `json:"metric"`
	Actual    float64 `json:"actual"`
	Measured  bool    `json:"measured"`
	Pass      bool    `json:"pass"`
	Detail    string  `json:"detail"`
}

// FromResults converts judged thresholds.
func FromResults(rs []threshold.Result) []ThresholdResult {
	out := make([]ThresholdResult, len(rs))
	for i, r := range rs {
		out[i] = ThresholdResult{Threshold: r.Raw, Metric: r.Metric, Actual: r.Actual, Measured: r.Measured,
			Pass: r.Pass, Detail: r.Describe()}
	}
	return out
}

// Values are the metrics thresholds may name, in canonical units. Metrics
// the run did not measure are absent.
func (r *Report) Values() map[string]float64 {
	v := map[string]float64{
		"p50": r.Latency.P50, "p90": r.Latency.P90, "p99": r.Latency.P99, "p999": r.Latency.P999,
		"max": r.Latency.Max, "mean": r.Latency.Mean, "lag_p99": r.Lag.P99, "lag_max": r.Lag.Max,
		"rate": r.Rate, "requests": float64(r.Requests), "errors": float64(r.Errors), "error_rate": r.ErrorRate,
		"accepted": float64(r.Accepted), "rejected": float64(r.Rejected),
		"rejections_missed": float64(r.Reconciliation.RejectionsMissed),
	}
	if r.TokenFetches != nil {
		v["token_fetches"] = float64(*r.TokenFetches)
	}
	rc := r.Reconciliation
	if rc.InboxChecked || rc.StatusesChecked {
		v["delivered"] = float64(r.Delivered)
		v["lost"] = float64(r.Lost)
	}
	if rc.InboxChecked {
		v["duplicated"] = float64(r.Duplicated)
		v["unexpected"] = float64(rc.Unexpected)
	}
	if rc.StatusesChecked {
		v["pending"] = float64(rc.Pending)
		v["status_mismatch"] = float64(rc.StatusMismatch)
	}
	return v
}

// Breached lists the failed thresholds.
func (r *Report) Breached() []ThresholdResult {
	var out []ThresholdResult
	for _, t := range r.Thresholds {
		if !t.Pass {
			out = append(out, t)
		}
	}
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func ms(v float64) string { return threshold.FormatMS(v) }

func sortedCodes(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, "  ")
}

// WriteText writes the human summary.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	where := r.Target
	if r.Self {
		where += " (self-contained: in-process mock"
		if r.Target == "sender" {
			where += " + sender"
		}
		where += ")"
	}
	p("minipush load run %s\t%s → %s, mix %s", r.RunID, where, r.Platform, r.Mix)
	p("load average\tstart %s, end %s (%d CPUs)", loadavg(r.LoadAverageStart), loadavg(r.LoadAverageEnd), r.CPUs)
	target := "max"
	if r.TargetRate > 0 {
		target = strconv.FormatFloat(r.TargetRate, 'f', -1, 64) + "/s"
	}
	p("rate\t%.1f/s achieved (target %s), %d requests of %d planned over %.1fs", r.Rate, target, r.Requests, r.Planned, r.DurationS)
	for i, s := range r.Steps {
		tr := "max"
		if s.TargetRate > 0 {
			tr = strconv.FormatFloat(s.TargetRate, 'f', -1, 64) + "/s"
		}
		p("  step %d\t%s for %.0fs: %.1f/s, %d requests, %d errors, p99 %s", i+1, tr, s.DurationS, s.Rate, s.Requests, s.Errors, ms(s.Latency.P99))
	}
	l := r.Latency
	p("latency (steady)\tp50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s", ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max), ms(l.Mean))
	p("schedule lag\tp99 %s  max %s", ms(r.Lag.P99), ms(r.Lag.Max))
	p("errors\t%d (%.3f%%): answers that differ from the expected outcome", r.Errors, r.ErrorRate*100)
	for _, e := range r.ErrorExamples {
		p("  error e.g.\t%s", e)
	}
	p("status codes\t%s", sortedCodes(r.StatusCodes))
	p("business codes\t%s", sortedCodes(r.BusinessCodes))
	for _, k := range slices.Sorted(maps.Keys(r.Kinds)) {
		c := r.Kinds[k]
		p("  %s\t%d requests, %d as expected, %d errors", k, c.Requests, c.OK, c.Errors)
	}
	rc := r.Reconciliation
	p("reconciliation\taccepted %d, delivered %d of %d expected, rejected %d (%s), lost %d, duplicated %d",
		r.Accepted, r.Delivered, rc.ExpectedDelivered, r.Rejected, sortedCodes(rc.RejectedBy), r.Lost, r.Duplicated)
	if r.TokenFetches != nil {
		p("token fetches	%d (the sender's, during the run)", *r.TokenFetches)
	}
	if len(r.SenderRetries) > 0 {
		p("sender retries	%s", sortedCodes(r.SenderRetries))
	}
	p("  \tunexpected %d, unconfirmed delivered %d, rejections missed %d, pending %d, status mismatch %d, failed as expected %d",
		rc.Unexpected, rc.UnconfirmedDelivered, rc.RejectionsMissed, rc.Pending, rc.StatusMismatch, rc.FailedAsExpected)
	var checked []string
	if rc.InboxChecked {
		checked = append(checked, "mock inbox")
	}
	if rc.StatusesChecked {
		checked = append(checked, "sender statuses")
	}
	if len(checked) == 0 {
		checked = append(checked, "nothing (no mock or sender to ask)")
	}
	drain := fmt.Sprintf("drained in %.1f s", r.DrainS)
	if r.DrainTimedOut {
		drain = fmt.Sprintf("timed out after %s s with %d pending", strconv.FormatFloat(r.DrainTimeoutS, 'f', -1, 64), r.DrainPending)
	}
	p("  \tchecked against %s; %s", strings.Join(checked, " and "), drain)
	if len(rc.LostBy) > 0 {
		p("  lost by sender status\t%s", sortedCodes(rc.LostBy))
	}
	if len(rc.MismatchBy) > 0 {
		p("  status mismatches\t%s", sortedCodes(rc.MismatchBy))
	}
	for _, e := range rc.LostExamples {
		p("  lost e.g.\t%s", e)
	}
	for _, e := range rc.DuplicatedExamples {
		p("  duplicated e.g.\t%s", e)
	}
	for _, e := range rc.UnexpectedExamples {
		p("  unexpected e.g.\t%s", e)
	}
	for _, n := range r.Notes {
		p("note\t%s", n)
	}
	for _, t := range r.Thresholds {
		mark := "ok  "
		if !t.Pass {
			mark = "FAIL"
		}
		p("threshold %s\t%s", mark, t.Detail)
	}
	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	if len(r.Thresholds) == 0 {
		verdict = "no thresholds"
	}
	p("result\t%s", verdict)
	return tw.Flush()
}

func loadavg(l []float64) string {
	if len(l) < 3 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f %.2f %.2f", l[0], l[1], l[2])
}
