package loadtest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minipush/minipush/loadtest"
	"github.com/minipush/minipush/loadtest/report"
	"github.com/minipush/minipush/loadtest/scenario"
	"github.com/minipush/minipush/loadtest/threshold"
	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/sender"
)

func thresholds(t *testing.T, specs ...string) loadtest.Option {
	t.Helper()
	var ts []threshold.Threshold
	for _, s := range specs {
		th, err := threshold.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, th)
	}
	return loadtest.WithThresholds(ts...)
}

// breached names the breached thresholds of a report.
func breached(r *report.Report) []string {
	var out []string
	for _, b := range r.Breached() {
		out = append(out, b.Threshold)
	}
	return out
}

func logReport(t *testing.T, r *report.Report) {
	t.Helper()
	var b strings.Builder
	_ = r.WriteText(&b)
	t.Log("\n" + b.String())
}

// TestInProcess runs the whole mix, after a ramp step, through an
// in-process sender and mock — under make test the race detector watches
// the generator, the sender and the mock at once — and gates on exact
// reconciliation. It does not gate latency: the race detector slows the
// sender's SQLite several times over. The CI smoke (TestSmoke) gates
// latency and rate on the binary as it ships. Load runs in this package
// are not parallel: they would measure each other.
func TestInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("load run (skipped with -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, loadtest.WithSelf(), loadtest.WithRate(100, 5*time.Second), loadtest.WithRamp(time.Second, 50),
		thresholds(t, "errors==0", "lost==0", "duplicated==0", "unexpected==0", "pending==0", "status_mismatch==0",
			"rejections_missed==0"))
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	if !rep.Passed {
		t.Fatalf("breached: %v", breached(rep))
	}
	// The plan is 50 then 500 requests; under -race on a starved machine a
	// few at each step's end may miss its deadline (the rate threshold of
	// the CI smoke is where the rate is gated).
	near := func(got, want int) bool { return got <= want && got >= want*97/100 }
	if !near(rep.Requests, 550) || len(rep.Steps) != 2 || !near(rep.Steps[0].Requests, 50) || !near(rep.Steps[1].Requests, 500) {
		t.Errorf("sent %d requests in steps %+v, want 50 then 500", rep.Requests, rep.Steps)
	}
	// Every kind of the mix was sent and came out as expected.
	for _, k := range scenario.Kinds {
		if c := rep.Kinds[string(k)]; c.Requests == 0 || c.OK != c.Requests {
			t.Errorf("%s: %+v, want some requests, all as expected", k, c)
		}
	}
	rc := rep.Reconciliation
	if !rc.InboxChecked || !rc.StatusesChecked || rc.Delivered == 0 || rc.Delivered != rc.ExpectedDelivered || rc.FailedAsExpected == 0 {
		t.Errorf("reconciliation: %+v", rc)
	}
	// A broadcast delivers fanout messages.
	want := rep.Kinds["valid"].Requests + loadtest.DefaultFanout*rep.Kinds["broadcast"].Requests
	if rc.ExpectedDelivered != want {
		t.Errorf("expected %d deliveries, want valid + %d × broadcasts = %d", rc.ExpectedDelivered, loadtest.DefaultFanout, want)
	}
	if rep.BusinessCodes["wechat:43101"] != rc.FailedAsExpected || rep.BusinessCodes["keyword_exceeds_limit"] == 0 ||
		rep.BusinessCodes["content:"+loadtest.DefaultContentRule] == 0 {
		t.Errorf("business codes %v", rep.BusinessCodes)
	}
}

// Fault storms: the mock fails half the sends with a retryable error; the
// gate must fail, and for the right reason.
func TestFaultStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("load runs (skipped with -short)")
	}
	// drainStatus receives the status lines of the stuck-queue run.
	var drainStatus syncBuffer
	fault := func(spec string) loadtest.Option {
		f, err := loadtest.ParseFault(spec)
		if err != nil {
			t.Fatal(err)
		}
		return loadtest.WithFaults(f)
	}
	// No rate or latency gate: the point is which reconciliation gate fires.
	gates := []string{"errors==0", "error_rate<1%", "lost==0", "duplicated==0", "unexpected==0"}
	tests := []struct {
		name string
		opts []loadtest.Option
		// want: exactly these thresholds breached.
		want  []string
		check func(t *testing.T, r *report.Report)
	}{
		{
			// Against the mock directly, errcode -1 is the answer: half the
			// valid sends are errors; nothing accepted is lost.
			name: "mock errcode -1 p=0.5",
			opts: []loadtest.Option{loadtest.WithTarget(loadtest.TargetMock), loadtest.WithMix(scenario.MustParseMix("valid=1")),
				fault("endpoint=subscribe_send,errcode=-1,probability=0.5,seed=7")},
			want: []string{"errors==0", "error_rate<1%"},
			check: func(t *testing.T, r *report.Report) {
				share := float64(r.BusinessCodes["-1"]) / float64(r.Requests)
				if share < 0.4 || share > 0.6 {
					t.Errorf("errcode -1 on %.0f%% of sends, want about 50%%", share*100)
				}
				if r.Lost != 0 || r.Delivered != r.BusinessCodes["0"] {
					t.Errorf("lost %d, delivered %d of %d answered 0", r.Lost, r.Delivered, r.BusinessCodes["0"])
				}
			},
		},
		{
			// Through the sender, the API accepts everything (no errors)
			// and retries; with two attempts a quarter of the messages run
			// out of retries: dead letters, lost.
			name: "sender errcode -1 p=0.5, 2 attempts",
			opts: []loadtest.Option{loadtest.WithMix(scenario.MustParseMix("valid=1")),
				fault("endpoint=subscribe_send,errcode=-1,probability=0.5,seed=7"),
				loadtest.WithSenderConfig(func(c *sender.Config) {
					c.Delivery.MaxAttempts = 2
					c.Delivery.BackoffBase = 10 * time.Millisecond
					c.Delivery.BackoffMax = 20 * time.Millisecond
				})},
			want: []string{"lost==0"},
			check: func(t *testing.T, r *report.Report) {
				lost := float64(r.Lost) / float64(r.Accepted)
				if lost < 0.15 || lost > 0.35 {
					t.Errorf("lost %d of %d accepted, want about 25%%", r.Lost, r.Accepted)
				}
				if r.Reconciliation.LostBy["failed:-1"] != r.Lost {
					t.Errorf("lost by sender status %v, want every one failed:-1 (a dead letter)", r.Reconciliation.LostBy)
				}
			},
		},
		{
			// 45009 (daily quota) throttles the whole app: the sender pauses
			// and retries without spending attempts, so nothing fails, but
			// nothing drains either.
			name: "sender errcode 45009",
			opts: []loadtest.Option{loadtest.WithMix(scenario.MustParseMix("valid=1")),
				fault("endpoint=subscribe_send,errcode=45009"),
				loadtest.WithTimeouts(loadtest.DefaultTimeout, 2*time.Second), loadtest.WithStatus(&drainStatus)},
			want: []string{"lost==0"},
			check: func(t *testing.T, r *report.Report) {
				if !r.DrainTimedOut || r.Reconciliation.Pending == 0 || r.Delivered != 0 {
					t.Errorf("drain timed out %v, pending %d, delivered %d; want a stuck queue", r.DrainTimedOut,
						r.Reconciliation.Pending, r.Delivered)
				}
				if r.DrainPending != r.Reconciliation.Pending {
					t.Errorf("drain pending %d, reconciliation pending %d: want the same count", r.DrainPending, r.Reconciliation.Pending)
				}
				var text strings.Builder
				if err := r.WriteText(&text); err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("timed out after 2 s with %d pending", r.DrainPending); !strings.Contains(text.String(), want) {
					t.Errorf("the summary does not say %q:\n%s", want, text.String())
				}
				if strings.Contains(text.String(), "drained in") {
					t.Errorf("a timed-out drain reads as drained:\n%s", text.String())
				}
				// The wait is told while it lasts, not only at its end.
				if !strings.Contains(drainStatus.String(), "loadtest: draining: ") {
					t.Errorf("no status line during the drain: %q", drainStatus.String())
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			opts := append([]loadtest.Option{loadtest.WithSelf(), loadtest.WithRate(100, 3*time.Second), thresholds(t, gates...)}, tt.opts...)
			rep, err := loadtest.Run(ctx, opts...)
			if err != nil {
				t.Fatal(err)
			}
			logReport(t, rep)
			if got := breached(rep); !slices.Equal(got, tt.want) {
				t.Errorf("breached %v, want exactly %v", got, tt.want)
			}
			if rep.Passed {
				t.Error("report passed")
			}
			tt.check(t, rep)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []loadtest.Option
		wantErr string
	}{
		{"unknown target", []loadtest.Option{loadtest.WithTarget("carrier-pigeon")}, `target "carrier-pigeon"`},
		{"broadcast to the mock", []loadtest.Option{loadtest.WithTarget(loadtest.TargetMock),
			loadtest.WithMix(scenario.MustParseMix("valid=1,broadcast=1"))}, "no broadcast API"},
		{"sender without key", []loadtest.Option{loadtest.WithSender("http://127.0.0.1:1", "", "x"),
			loadtest.WithMock("http://127.0.0.1:2", "", "")}, "-api-key"},
		{"sender without mock", []loadtest.Option{loadtest.WithSender("http://127.0.0.1:1", "k", "x")}, "-mock-url"},
		{"self with URLs", []loadtest.Option{loadtest.WithSelf(), loadtest.WithMock("http://127.0.0.1:2", "", "")}, "-self starts its own"},
		{"unknown platform", []loadtest.Option{loadtest.WithPlatform("line")}, `platform "line": want one of wechat, alipay, douyin, kuaishou, baidu`},
		{"WeChat's kinds on another platform", []loadtest.Option{loadtest.WithPlatform("alipay")}, "nogrant is judged by WeChat's codes; drop it from -mix for platform alipay"},
		{"another platform, mock target", []loadtest.Option{loadtest.WithPlatform("douyin"), loadtest.WithTarget(loadtest.TargetMock),
			loadtest.WithMix(scenario.MustParseMix("valid=100"))}, "platform douyin: runs self-contained against the sender"},
		{"negative rate", []loadtest.Option{loadtest.WithRate(-1, time.Second)}, "rate must be >= 0"},
		{"max rate without max workers", []loadtest.Option{loadtest.WithRate(0, time.Second)}, "-max-workers"},
		{"fanout above users", []loadtest.Option{loadtest.WithFanout(5), loadtest.WithUsers(3, 1)}, "fanout"},
		{"long content word", []loadtest.Option{loadtest.WithContent("a-very-long-forbidden-word", "r")}, "content word"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadtest.NewConfig(tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewConfig error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := loadtest.NewConfig(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestParseFault(t *testing.T) {
	t.Parallel()
	f, err := loadtest.ParseFault("endpoint=subscribe_send, errcode=-1, probability=0.5, seed=7, times=10")
	if err != nil {
		t.Fatal(err)
	}
	if f.Endpoint != "subscribe_send" || f.ErrCode == nil || *f.ErrCode != -1 || f.Probability != 0.5 || f.Seed != 7 || f.Times != 10 {
		t.Errorf("ParseFault = %+v", f)
	}
	f, err = loadtest.ParseFault("endpoint=token,latency=300ms")
	if err != nil || time.Duration(f.Latency) != 300*time.Millisecond {
		t.Errorf("latency fault = %+v, %v", f, err)
	}
	for _, bad := range []string{"", "errcode=-1", "endpoint=x", "endpoint=x,errcode=-1,drop=true", "endpoint=x,errcode=one",
		"endpoint=x,colour=red", "endpoint=x,drop=true,probability=2", "endpoint"} {
		if _, err := loadtest.ParseFault(bad); err == nil {
			t.Errorf("ParseFault(%q) = nil error", bad)
		}
	}
}

func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"endpoint=subscribe_send,errcode=-1,probability=0.5", "endpoint=token,latency=1s", "endpoint=x,drop=true,times=3", "=", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := loadtest.ParseFault(s)
		if err != nil {
			return
		}
		if fl.Endpoint == "" || fl.Probability < 0 || fl.Probability > 1 {
			t.Fatalf("ParseFault(%q) = %+v", s, fl)
		}
	})
}

func ExampleParseFault() {
	f, err := loadtest.ParseFault("endpoint=subscribe_send,errcode=-1,probability=0.5,seed=7")
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Endpoint, *f.ErrCode, f.Probability)
	// Output: subscribe_send -1 0.5
}

// Run drives a self-contained mock and sender at 500 requests per second
// for 30 s and gates on the outcome.
func ExampleRun() {
	var gates []threshold.Threshold
	for _, s := range []string{"p99<50ms", "lost==0", "rate>=495"} {
		th, err := threshold.Parse(s)
		if err != nil {
			panic(err)
		}
		gates = append(gates, th)
	}
	rep, err := loadtest.Run(context.Background(), loadtest.WithSelf(), loadtest.WithRate(500, 30*time.Second),
		loadtest.WithRamp(5*time.Second, 100, 250), loadtest.WithThresholds(gates...))
	if err != nil {
		panic(err)
	}
	_ = rep.WriteText(os.Stdout)
	if !rep.Passed {
		os.Exit(99)
	}
}

// A mock that guards its control API with a token (-control-token) is
// driven with the token (MINIPUSH_MOCK_CONTROL_TOKEN for the command),
// and refuses the run without it.
func TestMockControlToken(t *testing.T) {
	t.Parallel()
	const token = "loadtest-control-token-1"
	m := mocktest.Start(t, mockserver.WithControlToken(token))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := []loadtest.Option{loadtest.WithTarget(loadtest.TargetMock), loadtest.WithMock(m.URL, "", ""),
		loadtest.WithMix(scenario.MustParseMix("valid=1")), loadtest.WithRate(20, time.Second)}
	if _, err := loadtest.Run(ctx, opts...); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("run without the token: %v, want a 401 from the control API", err)
	}
	rep, err := loadtest.Run(ctx, append(opts, loadtest.WithMockToken(token))...)
	if err != nil {
		t.Fatalf("run with the token: %v", err)
	}
	if rep.Requests == 0 || rep.Delivered == 0 {
		t.Fatalf("nothing sent: %d requests, %d delivered", rep.Requests, rep.Delivered)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Every platform runs self-contained through the sender: each one's app,
// keys and data keys are seeded, its messages reconciled against the
// mock's inbox, and the sender's token fetches reported.
func TestEveryPlatform(t *testing.T) {
	t.Parallel()
	for _, p := range loadtest.Platforms {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			rep, err := loadtest.Run(context.Background(), loadtest.WithSelf(), loadtest.WithPlatform(p),
				loadtest.WithRate(20, 2*time.Second), loadtest.WithMix(scenario.MustParseMix("valid=80,content=10,broadcast=10")),
				loadtest.WithUsers(500, 5), loadtest.WithSeed(7), loadtest.WithTimeouts(10*time.Second, time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			rc := rep.Reconciliation
			if rep.Errors != 0 || rep.Lost != 0 || rep.Duplicated != 0 || !rc.InboxChecked || rc.Unexpected != 0 ||
				rep.Delivered != rc.ExpectedDelivered || rep.Delivered == 0 || rep.Rejected == 0 {
				var b strings.Builder
				_ = rep.WriteText(&b)
				t.Fatalf("%s: want every accepted message delivered once and every content violation refused:\n%s", p, b.String())
			}
			if rep.Platform != p || rep.TokenFetches == nil {
				t.Errorf("%s: report platform %q, token fetches %v", p, rep.Platform, rep.TokenFetches)
			}
		})
	}
}
