// Command loadtest drives minipush with an open-model load (constant
// arrival rate, optional ramp), reconciles what was sent with the sender's
// statuses and the mock's inbox, writes text/JSON/JUnit/HTML reports and
// exits 99 when a threshold is breached.
//
//	loadtest                                   # self-contained: in-process mock + sender, defaults
//	loadtest -rate 500 -duration 30s -ramp 100,250 -threshold 'p99<50ms' -threshold 'lost==0'
//	loadtest -target mock -rate 5000 -mix valid=100
//	loadtest -target sender -sender-url http://127.0.0.1:9200 -mock-url http://127.0.0.1:9100 \
//	         -app shop-wechat -app-id wxdemo0000000001          # API key from MINIPUSH_LOADTEST_API_KEY
//
// Exit codes: 0 run completed and every threshold held; 99 a threshold was
// breached (named on stderr); 1 the run could not be carried out; 2 bad
// flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/minipush/minipush/loadtest"
	"github.com/minipush/minipush/loadtest/pacer"
	"github.com/minipush/minipush/loadtest/report"
	"github.com/minipush/minipush/loadtest/scenario"
	"github.com/minipush/minipush/loadtest/threshold"
)

var version = "dev"

// Exit codes.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitBreached = 99
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, " ") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		target      = fs.String("target", loadtest.DefaultTarget, "system under test: sender (its HTTP API) or mock (the platform's send API directly)")
		platform    = fs.String("platform", loadtest.DefaultPlatform, "platform the messages go to: wechat, alipay, douyin, kuaishou or baidu (all but wechat: -self -target sender, mix of valid, content and broadcast)")
		self        = fs.Bool("self", false, "start the mock (and sender) in-process on loopback; the default when no URL is given")
		senderURL   = fs.String("sender-url", "", "a running sender's base URL; several instances of one deployment comma-separated (requests round robin)")
		apiKey      = fs.String("api-key", "", "the sender's API key (prefer MINIPUSH_LOADTEST_API_KEY: flags show in ps)")
		app         = fs.String("app", loadtest.DefaultApp, "the sender's name for the app")
		mockURL     = fs.String("mock-url", "", "a running mock's base URL (target mock, or the sender's platform for provisioning and the inbox)")
		appID       = fs.String("app-id", "", "platform app id in the mock (sender target: the app the sender delivers to; default "+loadtest.DefaultAppID+"; mock target: an existing app, with -app-secret)")
		appSecret   = fs.String("app-secret", "", "mock target: the app's secret (prefer MINIPUSH_LOADTEST_APP_SECRET); without it a fresh app is registered")
		template    = fs.String("template", loadtest.DefaultTemplateID, "template id (created in the mock when missing)")
		users       = fs.Int("users", loadtest.DefaultUsers, "granted users (long-term grants)")
		noGrant     = fs.Int("no-grant-users", loadtest.DefaultNoGrantUsers, "users without a grant (nogrant scenario)")
		rate        = fs.Float64("rate", loadtest.DefaultRate, "steady requests per second (0: as fast as -max-workers allow)")
		duration    = fs.Duration("duration", loadtest.DefaultDuration, "how long the steady rate is held")
		ramp        = fs.String("ramp", "", "ramp rates before the steady rate, e.g. 100,250 (each held for -ramp-step)")
		rampStep    = fs.Duration("ramp-step", loadtest.DefaultRampStep, "how long each ramp rate is held")
		mix         = fs.String("mix", "", "scenario weights (default "+scenario.DefaultMix+"; without broadcast for -target mock)")
		seed        = fs.Uint64("seed", 1, "seed of the mix's choices (same seed, same requests)")
		fanout      = fs.Int("fanout", loadtest.DefaultFanout, "recipients per broadcast")
		contentWord = fs.String("content-word", loadtest.DefaultContentWord, "word the content scenario sends (the sender must have a content rule for it)")
		contentRule = fs.String("content-rule", loadtest.DefaultContentRule, "name of the sender's content rule for -content-word (expected as 422 content:<name>)")
		timeout     = fs.Duration("timeout", loadtest.DefaultTimeout, "per-request timeout")
		drain       = fs.Duration("drain-timeout", loadtest.DefaultDrainTimeout, "how long to wait for the sender's queue to drain")
		workers     = fs.Uint64("workers", loadtest.DefaultWorkers, "initial workers (more are started when all are busy)")
		maxWorkers  = fs.Uint64("max-workers", 0, "maximum workers (0: unbounded; required with -rate 0)")
		jsonOut     = fs.String("report-json", "", "write the JSON report to this file")
		junitOut    = fs.String("report-junit", "", "write JUnit XML (one test case per threshold) to this file")
		htmlOut     = fs.String("report-html", "", "write a self-contained HTML report to this file")
		progress    = fs.String("progress", "auto", "live progress line: auto (on a terminal, off when CI=true), on, off")
		logLevel    = fs.String("log-level", "warn", "log level of setup and reconciliation steps: debug, info, warn, error")
		senderLog   = fs.String("sender-log-level", "error", "self-contained sender's log level (warn logs every failed message, which the mix has by design)")
		showVersion = fs.Bool("version", false, "print the version and exit")
		cpuProfile  = fs.String("cpuprofile", "", "write a CPU profile of the generator (and anything in-process) to this file")
		thresholds  multi
		faults      multi
	)
	fs.Var(&thresholds, "threshold", "gate, repeatable: metric op value, e.g. 'p99<50ms', 'lost==0', 'rate>=495', 'error_rate<1%'")
	fs.Var(&faults, "fault", "mock fault for the run, repeatable: endpoint=subscribe_send,errcode=-1,probability=0.5")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: loadtest [flags]\n\nOpen-model load against the minipush sender or mock, with reconciliation and thresholds.\n"+
			"Exit codes: 0 ok, 99 threshold breached, 1 run failed, 2 bad flags. Metrics for -threshold: %s.\n\n",
			strings.Join(threshold.Names(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if *showVersion {
		fmt.Fprintln(stdout, "loadtest", version)
		return exitOK
	}
	usage := func(err error) int {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return exitUsage
	}

	if *apiKey == "" {
		*apiKey = getenv("MINIPUSH_LOADTEST_API_KEY")
	}
	if *appSecret == "" {
		*appSecret = getenv("MINIPUSH_LOADTEST_APP_SECRET")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usage(fmt.Errorf("-log-level %q: want debug, info, warn or error", *logLevel))
	}
	var slevel slog.Level
	if err := slevel.UnmarshalText([]byte(*senderLog)); err != nil {
		return usage(fmt.Errorf("-sender-log-level %q: want debug, info, warn or error", *senderLog))
	}
	opts := []loadtest.Option{
		loadtest.WithSenderLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slevel}))),
		loadtest.WithTarget(*target), loadtest.WithPlatform(*platform),
		loadtest.WithRate(*rate, *duration), loadtest.WithSeed(*seed), loadtest.WithFanout(*fanout),
		loadtest.WithContent(*contentWord, *contentRule), loadtest.WithUsers(*users, *noGrant),
		loadtest.WithTimeouts(*timeout, *drain), loadtest.WithWorkers(*workers, *maxWorkers),
		loadtest.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))),
	}
	if *self {
		opts = append(opts, loadtest.WithSelf())
	}
	if *senderURL != "" {
		urls := strings.Split(*senderURL, ",")
		opts = append(opts, loadtest.WithSender(urls[0], *apiKey, *app), loadtest.WithSenderURLs(urls...))
	} else if *app != loadtest.DefaultApp {
		return usage(errors.New("-app names an app of a running sender: give -sender-url"))
	}
	if *mockURL != "" {
		opts = append(opts, loadtest.WithMock(*mockURL, *appID, *appSecret), loadtest.WithMockToken(getenv("MINIPUSH_MOCK_CONTROL_TOKEN")))
	}
	rates, err := pacer.ParseRamp(*ramp)
	if err != nil {
		return usage(err)
	}
	if len(rates) > 0 {
		opts = append(opts, loadtest.WithRamp(*rampStep, rates...))
	}
	if *mix != "" {
		m, err := scenario.ParseMix(*mix)
		if err != nil {
			return usage(err)
		}
		opts = append(opts, loadtest.WithMix(m))
	}
	if *template != loadtest.DefaultTemplateID {
		opts = append(opts, func(c *loadtest.Config) { c.TemplateID = *template })
	}
	for _, s := range thresholds {
		t, err := threshold.Parse(s)
		if err != nil {
			return usage(err)
		}
		opts = append(opts, loadtest.WithThresholds(t))
	}
	for _, s := range faults {
		f, err := loadtest.ParseFault(s)
		if err != nil {
			return usage(err)
		}
		opts = append(opts, loadtest.WithFaults(f))
	}
	switch *progress {
	case "on":
		opts = append(opts, loadtest.WithProgress(stdout))
	case "auto":
		if f, ok := stdout.(*os.File); ok && loadtest.IsTerminal(f) && getenv("CI") != "true" {
			opts = append(opts, loadtest.WithProgress(stdout))
		}
	case "off":
	default:
		return usage(fmt.Errorf("-progress %q: want auto, on or off", *progress))
	}
	// Long waits (the drain) are told on stderr, terminal or not.
	opts = append(opts, loadtest.WithStatus(stderr))
	cfg, err := loadtest.NewConfig(opts...)
	if err != nil {
		return usage(err)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return exitFailed
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return exitFailed
		}
		defer pprof.StopCPUProfile()
	}
	// Validated before anything starts, so flag mistakes exit 2.
	rep, err := loadtest.RunConfig(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return exitFailed
	}
	if err := rep.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return exitFailed
	}
	var written []string
	for _, out := range []struct {
		kind, path string
		write      func(io.Writer) error
	}{{"JSON", *jsonOut, rep.WriteJSON}, {"JUnit", *junitOut, rep.WriteJUnit}, {"HTML", *htmlOut, rep.WriteHTML}} {
		if out.path == "" {
			continue
		}
		if err := writeFile(out.path, out.write); err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return exitFailed
		}
		written = append(written, fmt.Sprintf("%s %s", out.kind, out.path))
	}
	if len(written) > 0 {
		fmt.Fprintf(stdout, "reports\t%s\n", strings.Join(written, ", "))
	} else {
		fmt.Fprintln(stdout, "reports\tnone written (-report-json, -report-junit, -report-html)")
	}
	return verdict(rep, stderr)
}

// verdict names the breached thresholds and picks the exit code.
func verdict(rep *report.Report, stderr io.Writer) int {
	breached := rep.Breached()
	if len(breached) == 0 {
		return exitOK
	}
	names := make([]string, len(breached))
	for i, b := range breached {
		names[i] = b.Threshold
	}
	fmt.Fprintf(stderr, "loadtest: %d threshold(s) breached: %s\n", len(breached), strings.Join(names, ", "))
	for _, b := range breached {
		fmt.Fprintf(stderr, "  %s\n", b.Detail)
	}
	return exitBreached
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := write(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
