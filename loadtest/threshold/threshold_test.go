package threshold_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/minipush/minipush/loadtest/threshold"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		metric string
		op     threshold.Op
		value  float64 // canonical unit
	}{
		{"p99<50ms", "p99", threshold.LT, 50},
		{"p99 < 50ms", "p99", threshold.LT, 50},
		{"  P99<50ms  ", "p99", threshold.LT, 50},
		{"p99.9<=1s", "p999", threshold.LE, 1000},
		{"p999<1.5s", "p999", threshold.LT, 1500},
		{"max<800us", "max", threshold.LT, 0.8},
		{"max<800µs", "max", threshold.LT, 0.8},
		{"max<250000ns", "max", threshold.LT, 0.25},
		{"mean<2m", "mean", threshold.LT, 120000},
		{"p50<3", "p50", threshold.LT, 3}, // bare number: milliseconds
		{"median<3ms", "p50", threshold.LT, 3},
		{"lag_p99<5ms", "lag_p99", threshold.LT, 5},
		{"lost==0", "lost", threshold.EQ, 0},
		{"duplicated == 0", "duplicated", threshold.EQ, 0},
		{"errors!=3", "errors", threshold.NE, 3},
		{"rate>=495", "rate", threshold.GE, 495},
		{"rate>=495/s", "rate", threshold.GE, 495},
		{"rate>4999.5rps", "rate", threshold.GT, 4999.5},
		{"error_rate<1%", "error_rate", threshold.LT, 0.01},
		{"error_rate<0.5%", "error_rate", threshold.LT, 0.005},
		{"error_rate<=0.01", "error_rate", threshold.LE, 0.01},
		{"delivered>=100", "delivered", threshold.GE, 100},
		{"pending==0", "pending", threshold.EQ, 0},
		{"status_mismatch==0", "status_mismatch", threshold.EQ, 0},
		{"rejections_missed==0", "rejections_missed", threshold.EQ, 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := threshold.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got.Metric != tt.metric || got.Op != tt.op || math.Abs(got.Value-tt.value) > 1e-9 {
				t.Errorf("Parse(%q) = %s %s %v, want %s %s %v", tt.in, got.Metric, got.Op, got.Value, tt.metric, tt.op, tt.value)
			}
			if got.Raw != strings.TrimSpace(tt.in) {
				t.Errorf("Raw = %q, want the trimmed input", got.Raw)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, wantErr string
	}{
		{"", "empty threshold"},
		{"   ", "empty threshold"},
		{"p99", "no comparison"},
		{"p99=50ms", "use =="},
		{"<50ms", "no metric"},
		{"latency<50ms", `unknown metric "latency"`},
		{"p99<", "no value"},
		{"p99<fast", "want a duration"},
		{"p99<50parsecs", "want a duration"},
		{"p99<NaNms", "want a duration"},
		{"lost==1.5", "whole number"},
		{"lost==zero", "whole number"},
		{"lost==0ms", "whole number"},
		{"error_rate<5", "write 5%"},
		{"error_rate<abc%", "not a number"},
		{"rate>=fast", "not a number"},
		{"rate>=Inf", "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := threshold.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = nil error, want one containing %q", tt.in, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) error %q, want it to contain %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	values := map[string]float64{"p99": 63.1, "lost": 0, "rate": 499.2, "error_rate": 0.002, "duplicated": 1}
	tests := []struct {
		in       string
		pass     bool
		measured bool
		detail   string
	}{
		{"p99<50ms", false, true, "p99<50ms: p99 = 63.10ms (want < 50.00ms)"},
		{"p99<100ms", true, true, "p99<100ms: p99 = 63.10ms"},
		{"p99<=63.1ms", true, true, ""},
		{"p99>63.1", false, true, ""},
		{"lost==0", true, true, "lost==0: lost = 0"},
		{"lost!=0", false, true, ""},
		{"duplicated==0", false, true, "duplicated==0: duplicated = 1 (want == 0)"},
		{"rate>=495", true, true, "rate>=495: rate = 499.2/s"},
		{"rate>=500", false, true, "(want >= 500.0/s)"},
		{"error_rate<1%", true, true, "error_rate<1%: error_rate = 0.2%"},
		// Not measured: a gate that cannot be checked fails.
		{"pending==0", false, false, "pending==0: not measured in this run"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			th, err := threshold.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			r := threshold.Evaluate([]threshold.Threshold{th}, values)[0]
			if r.Pass != tt.pass || r.Measured != tt.measured {
				t.Errorf("%s: pass=%v measured=%v, want pass=%v measured=%v", tt.in, r.Pass, r.Measured, tt.pass, tt.measured)
			}
			if tt.detail != "" && !strings.Contains(r.Describe(), tt.detail) {
				t.Errorf("Describe() = %q, want it to contain %q", r.Describe(), tt.detail)
			}
		})
	}
}

func TestBreached(t *testing.T) {
	t.Parallel()
	var ts []threshold.Threshold
	for _, s := range []string{"lost==0", "p99<50ms", "rate>=495"} {
		th, err := threshold.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, th)
	}
	rs := threshold.Evaluate(ts, map[string]float64{"lost": 1, "p99": 10, "rate": 400})
	var names []string
	for _, b := range threshold.Breached(rs) {
		names = append(names, b.Raw)
	}
	if got := strings.Join(names, ","); got != "lost==0,rate>=495" {
		t.Errorf("breached = %s, want lost==0,rate>=495", got)
	}
}

func TestFormatMS(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{0.25: "250µs", 1: "1.00ms", 12.345: "12.35ms", 1500: "1.50s"} {
		if got := threshold.FormatMS(in); got != want {
			t.Errorf("FormatMS(%v) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParse: any input either fails with an error or yields a threshold
// on a known metric whose Raw parses again to the same threshold.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"p99<50ms", "lost==0", "rate>=495/s", "error_rate<1%", "p99.9<=1.5s", "max<800µs", "x", "<=", "p99<<1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := threshold.Parse(s)
		if err != nil {
			return
		}
		if _, ok := threshold.Metrics[th.Metric]; !ok {
			t.Fatalf("Parse(%q) gave unknown metric %q", s, th.Metric)
		}
		if math.IsNaN(th.Value) || math.IsInf(th.Value, 0) {
			t.Fatalf("Parse(%q) gave value %v", s, th.Value)
		}
		again, err := threshold.Parse(th.Raw)
		if err != nil || again != th {
			t.Fatalf("Parse(Raw=%q) = %+v, %v; want %+v", th.Raw, again, err, th)
		}
	})
}

func ExampleParse() {
	th, err := threshold.Parse("p99<50ms")
	if err != nil {
		panic(err)
	}
	r := threshold.Evaluate([]threshold.Threshold{th}, map[string]float64{"p99": 63.1})[0]
	fmt.Println(r.Pass, r.Describe())
	// Output: false p99<50ms: p99 = 63.10ms (want < 50.00ms)
}
