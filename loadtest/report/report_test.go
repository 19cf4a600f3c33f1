package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/loadtest/reconcile"
	"github.com/minipush/minipush/loadtest/report"
	"github.com/minipush/minipush/loadtest/stats"
	"github.com/minipush/minipush/loadtest/threshold"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sample is a fixed report: a 500/s run after a 100/s ramp step, one
// breached threshold.
func sample(t *testing.T) *report.Report {
	t.Helper()
	lat := stats.Latency{P50: 1.2, P90: 3.4, P99: 63.1, P999: 80, Max: 99.5, Mean: 2.1}
	rc := reconcile.Result{Accepted: 14000, ExpectedDelivered: 13300, Delivered: 13299, Lost: 1, Rejected: 1500,
		FailedAsExpected: 700, RejectedBy: map[string]int{"content:no-fake-invoice": 750, "keyword_exceeds_limit": 750},
		LostBy: map[string]int{"delivered": 1}, LostExamples: []string{"lt1-9→o_user_9"}, InboxChecked: true, StatusesChecked: true}
	r := &report.Report{Version: 1, Target: "sender", Platform: "wechat", Self: true,
		Started: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), DurationS: 35, ElapsedS: 36.5,
		Mix: "valid=80,content=5,badkeyword=5,nogrant=5,broadcast=5", Seed: 1, RunID: "lt0123abcd",
		TargetRate: 500, Rate: 499.97, Requests: 15500, Planned: 15500, Latency: lat, LatencyAll: lat, Lag: stats.Latency{P99: 2, Max: 5},
		Steps: []report.Step{
			{TargetRate: 100, DurationS: 5, Step: stats.Step{Requests: 500, Rate: 100, Latency: lat}},
			{TargetRate: 500, DurationS: 30, Step: stats.Step{Requests: 15000, Rate: 499.97, Latency: lat}},
		},
		StatusCodes: map[string]int{"202": 14000, "422": 1500}, BusinessCodes: map[string]int{"keyword_exceeds_limit": 750, "content:no-fake-invoice": 750, "wechat:43101": 700},
		Kinds:    map[string]stats.KindCounts{"valid": {Requests: 12400, OK: 12400}},
		Accepted: rc.Accepted, Delivered: rc.Delivered, Rejected: rc.Rejected, Lost: rc.Lost, Reconciliation: rc,
		DrainS: 0.4, LoadAverageStart: []float64{3.5, 4, 7}, LoadAverageEnd: []float64{4, 4.1, 7}, CPUs: 2,
		Timeline: []stats.Point{{At: 0, Requests: 100, P50: 1, P99: 5, Max: 9}, {At: 1, Requests: 500, Errors: 3, P50: 1.2, P99: 60, Max: 99}},
		BucketS:  1,
	}
	var ts []threshold.Threshold
	for _, s := range []string{"p99<50ms", "lost==0", "rate>=495"} {
		th, err := threshold.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, th)
	}
	res := threshold.Evaluate(ts, r.Values())
	r.Thresholds = report.FromResults(res)
	r.Passed = len(threshold.Breached(res)) == 0
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s", name, got)
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := sample(t).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", b.Bytes())
}

// The JSON carries the fields scripts read.
func TestJSON(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := sample(t).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"rate": 499.97, "accepted": 14000, "delivered": 13299, "rejected": 1500, "lost": 1, "duplicated": 0}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	lat, _ := m["latency_ms"].(map[string]any)
	for k, v := range map[string]float64{"p50": 1.2, "p99": 63.1, "p999": 80} {
		if lat[k] != v {
			t.Errorf("latency_ms.%s = %v, want %v", k, lat[k], v)
		}
	}
	if m["passed"] != false {
		t.Errorf("passed = %v, want false", m["passed"])
	}
	if ths, _ := m["thresholds"].([]any); len(ths) != 3 {
		t.Errorf("thresholds = %v, want 3", m["thresholds"])
	}
}

// One test case per threshold; the breached ones carry a failure that
// names the measured value.
func TestJUnit(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := sample(t).WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
			SystemOut string `xml:"system-out"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d suites, want 1", len(doc.Suites))
	}
	s := doc.Suites[0]
	if s.Tests != 3 || s.Failures != 2 || len(s.Cases) != 3 {
		t.Fatalf("tests=%d failures=%d cases=%d, want 3, 2, 3", s.Tests, s.Failures, len(s.Cases))
	}
	wantFailure := map[string]string{"p99<50ms": "p99 = 63.10ms", "lost==0": "lost = 1"}
	for _, c := range s.Cases {
		want, breached := wantFailure[c.Name]
		if (c.Failure != nil) != breached {
			t.Errorf("case %s failed=%v, want %v", c.Name, c.Failure != nil, breached)
		}
		if c.Failure != nil && !strings.Contains(c.Failure.Message, want) {
			t.Errorf("failure message %q does not name the measured value (%s)", c.Failure.Message, want)
		}
	}
	if !strings.Contains(s.SystemOut, "reconciliation") {
		t.Error("system-out lacks the text summary")
	}
}

func TestJUnitWithoutThresholds(t *testing.T) {
	t.Parallel()
	r := sample(t)
	r.Thresholds, r.Passed = nil, true
	var b bytes.Buffer
	if err := r.WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `tests="1" failures="0"`) || !strings.Contains(b.String(), `name="run completed"`) {
		t.Errorf("a run without thresholds should be one passing case:\n%s", b.String())
	}
}

// The HTML page is self-contained (nothing fetched, no scripts), holds the
// latency plot, and escapes what it prints.
func TestHTML(t *testing.T) {
	t.Parallel()
	r := sample(t)
	r.Notes = []string{`<script>alert("x")</script>`}
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script") {
		t.Error("the page holds a script (a note was not escaped?)")
	}
	if regexp.MustCompile(`(?i)(src|href)\s*=|url\(|@import`).MatchString(page) {
		t.Error("the page refers to an external asset")
	}
	for _, want := range []string{`<svg`, `aria-label="latency over time"`, `<polyline`, `500/s`, `FAIL`, `p99&lt;50ms`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Every SVG is well-formed XML.
	for _, svg := range regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(page, -1) {
		if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
			t.Errorf("SVG is not well-formed: %v", err)
		}
	}
}

// Values leaves out what was not measured, so thresholds on it fail.
func TestValues(t *testing.T) {
	t.Parallel()
	r := sample(t)
	r.Reconciliation.InboxChecked, r.Reconciliation.StatusesChecked = false, false
	v := r.Values()
	for _, k := range []string{"lost", "delivered", "duplicated", "pending"} {
		if _, ok := v[k]; ok {
			t.Errorf("%s reported although nothing was checked", k)
		}
	}
	for _, k := range []string{"p99", "rate", "errors", "accepted"} {
		if _, ok := v[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
	for k := range v {
		if _, ok := threshold.Metrics[k]; !ok {
			t.Errorf("value %s is not a threshold metric", k)
		}
	}
	for k := range threshold.Metrics {
		if _, ok := sampleValues(t)[k]; !ok {
			t.Errorf("threshold metric %s is never measured", k)
		}
	}
}

func sampleValues(t *testing.T) map[string]float64 {
	r := sample(t)
	// A sender-target run reads the sender's token fetches too.
	fetches := 3
	r.TokenFetches = &fetches
	return r.Values()
}
