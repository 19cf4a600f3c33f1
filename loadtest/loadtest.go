// Package loadtest is minipush's open-model load generator: it sends a
// weighted mix of requests (valid messages, content-rule violations, bad
// keyword values, recipients without a grant, broadcasts) at a constant
// arrival rate — with optional ramp steps — to the sender's API or to the
// mock platform directly, records exact latency percentiles, then waits
// for the sender to drain and reconciles what was sent with the sender's
// statuses and the mock's inbox: every message delivered exactly once,
// every expected rejection seen, nothing lost, nothing duplicated.
// Thresholds over the results gate CI.
//
// Pacing and HTTP are vegeta's (one Attacker per run, open model, no
// coordinated omission); percentiles are HDR histograms; success is judged
// here, per request, against the outcome its kind must have — not by
// vegeta's 2xx/3xx rule.
//
// The library returns errors and never exits; cmd/loadtest maps them to
// exit codes (99 for a breached threshold).
package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/minipush/minipush/loadtest/pacer"
	"github.com/minipush/minipush/loadtest/reconcile"
	"github.com/minipush/minipush/loadtest/report"
	"github.com/minipush/minipush/loadtest/scenario"
	"github.com/minipush/minipush/loadtest/selfhost"
	"github.com/minipush/minipush/loadtest/stats"
	"github.com/minipush/minipush/loadtest/threshold"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/sender"
	"github.com/minipush/minipush/sender/senderclient"
)

// Targets.
const (
	TargetSender = "sender" // the sender's HTTP API (POST /v1/messages, /v1/broadcasts)
	TargetMock   = "mock"   // the mock platform's send API directly
)

// Platforms are the platforms a run can drive (WithPlatform): the five
// the mock emulates and the sender has a client for.
var Platforms = []string{mockapi.PlatformWeChat, mockapi.PlatformAlipay, mockapi.PlatformDouyin,
	mockapi.PlatformKuaishou, mockapi.PlatformBaidu}

// Defaults.
const (
	DefaultTarget       = TargetSender
	DefaultPlatform     = mockapi.PlatformWeChat
	DefaultRate         = 500.0
	DefaultDuration     = 30 * time.Second
	DefaultRampStep     = 5 * time.Second
	DefaultFanout       = 3
	DefaultTimeout      = 10 * time.Second
	DefaultDrainTimeout = 2 * time.Minute
	DefaultWorkers      = 16
	DefaultApp          = selfhost.AppName
	DefaultAppID        = selfhost.AppID
	DefaultTemplateID   = selfhost.TemplateID
	DefaultContentWord  = selfhost.ContentWord
	DefaultContentRule  = selfhost.ContentRule
	DefaultUsers        = selfhost.DefaultUsers
	DefaultNoGrantUsers = selfhost.DefaultNoGrantUsers
)

// Config is a run's settings. Build it with options; the zero values of
// unset fields are replaced by the defaults above.
type Config struct {
	Target   string
	Platform string
	// Self starts the mock (and the sender, for the sender target)
	// in-process. It is implied when neither SenderURL nor MockURL is set.
	Self bool

	SenderURL string
	// SenderURLs are several instances of one deployment (sharing a
	// Redis): requests go round robin to them, reads to the first that
	// answers. SenderURL is the first.
	SenderURLs []string
	APIKey     string
	App        string // the sender's name for the app

	MockURL   string
	AppID     string // the platform app id in the mock
	AppSecret string // the mock-direct target's app secret (a fresh app when empty)
	// MockToken is the mock's control token when it runs with
	// -control-token (MINIPUSH_MOCK_CONTROL_TOKEN).
	MockToken string

	TemplateID          string
	Users, NoGrantUsers int

	// Rate is the steady step's requests per second; 0 sends as fast as
	// MaxWorkers allow (to find the maximum). Ramp steps run first, each
	// for RampStep.
	Rate     float64
	Duration time.Duration
	Ramp     []float64
	RampStep time.Duration

	Mix    scenario.Mix
	Seed   uint64
	Fanout int

	ContentWord string
	ContentRule string

	Timeout      time.Duration
	DrainTimeout time.Duration
	Workers      uint64
	MaxWorkers   uint64 // 0: unbounded (required > 0 when Rate is 0)
	Connections  int

	Thresholds []threshold.Threshold
	// Faults are injected into the mock for the run and removed after.
	Faults []mockapi.Fault

	// Progress receives a live line once a second (nil: none).
	Progress io.Writer
	// Status receives a line now and then about a long wait, such as the
	// drain of the sender's queue (nil: none). Unlike Progress it is plain
	// lines, for logs and CI too.
	Status io.Writer
	Log    *slog.Logger
	// SenderLog receives the self-contained sender's log (default:
	// discarded; it logs every failed message, which a run has by design).
	SenderLog *slog.Logger

	// ConfigureSender adjusts the self-contained sender's configuration.
	ConfigureSender func(*sender.Config)
}

// Option sets part of a Config.
type Option func(*Config)

// WithTarget selects TargetSender or TargetMock.
func WithTarget(t string) Option { return func(c *Config) { c.Target = t } }

// WithPlatform selects the platform (one of Platforms; default wechat).
func WithPlatform(p string) Option { return func(c *Config) { c.Platform = p } }

// WithSelf starts mock and sender in-process.
func WithSelf() Option { return func(c *Config) { c.Self = true } }

// WithSender targets a running sender.
func WithSender(url, apiKey, app string) Option {
	return func(c *Config) { c.SenderURL, c.APIKey, c.App = url, apiKey, app }
}

// WithSenderURLs spreads the requests over several instances of one
// sender deployment (round robin); the reconciliation reads from the first
// that answers. The first URL is the sender's URL.
func WithSenderURLs(urls ...string) Option {
	return func(c *Config) {
		c.SenderURLs = urls
		if len(urls) > 0 {
			c.SenderURL = urls[0]
		}
	}
}

// WithMock uses a running mock (for provisioning, faults, the inbox, or as
// the target). appID names the app the sender delivers to in the mock, or
// the mock-direct target's app (with its secret; a fresh app is registered
// when both are empty).
func WithMock(url, appID, appSecret string) Option {
	return func(c *Config) { c.MockURL, c.AppID, c.AppSecret = url, appID, appSecret }
}

// WithMockToken sends the mock's control token on control calls.
func WithMockToken(token string) Option { return func(c *Config) { c.MockToken = token } }

// WithRate sets the steady rate and how long it is held.
func WithRate(perSecond float64, d time.Duration) Option {
	return func(c *Config) { c.Rate, c.Duration = perSecond, d }
}

// WithRamp runs each rate for step before the steady rate.
func WithRamp(step time.Duration, rates ...float64) Option {
	return func(c *Config) { c.Ramp, c.RampStep = rates, step }
}

// WithMix sets the scenario mix.
func WithMix(m scenario.Mix) Option { return func(c *Config) { c.Mix = m } }

// WithSeed fixes the mix's random choices.
func WithSeed(s uint64) Option { return func(c *Config) { c.Seed = s } }

// WithFanout sets the recipients per broadcast.
func WithFanout(n int) Option { return func(c *Config) { c.Fanout = n } }

// WithThresholds adds gates.
func WithThresholds(ts ...threshold.Threshold) Option {
	return func(c *Config) { c.Thresholds = append(c.Thresholds, ts...) }
}

// WithFaults injects mock faults for the run.
func WithFaults(fs ...mockapi.Fault) Option {
	return func(c *Config) { c.Faults = append(c.Faults, fs...) }
}

// WithTimeouts sets the per-request timeout and the drain wait.
func WithTimeouts(request, drain time.Duration) Option {
	return func(c *Config) { c.Timeout, c.DrainTimeout = request, drain }
}

// WithWorkers sets vegeta's initial and maximum workers (0: unbounded).
func WithWorkers(initial, maximum uint64) Option {
	return func(c *Config) { c.Workers, c.MaxWorkers = initial, maximum }
}

// WithStatus writes a line to w about each long wait (the drain).
func WithStatus(w io.Writer) Option { return func(c *Config) { c.Status = w } }

// WithProgress writes a live progress line to w once a second.
func WithProgress(w io.Writer) Option { return func(c *Config) { c.Progress = w } }

// WithLogger logs setup and reconciliation steps.
func WithLogger(l *slog.Logger) Option { return func(c *Config) { c.Log = l } }

// WithSenderLogger sets the self-contained sender's logger.
func WithSenderLogger(l *slog.Logger) Option { return func(c *Config) { c.SenderLog = l } }

// WithContent sets the word of the content scenario and the rule name the
// sender reports for it.
func WithContent(word, rule string) Option {
	return func(c *Config) { c.ContentWord, c.ContentRule = word, rule }
}

// WithUsers sets how many granted and ungranted users are provisioned.
func WithUsers(granted, noGrant int) Option {
	return func(c *Config) { c.Users, c.NoGrantUsers = granted, noGrant }
}

// WithSenderConfig adjusts the self-contained sender's configuration.
func WithSenderConfig(f func(*sender.Config)) Option {
	return func(c *Config) { c.ConfigureSender = f }
}

// NewConfig applies options over the defaults and validates the result.
func NewConfig(opts ...Option) (*Config, error) {
	c := &Config{Rate: math.NaN()}
	for _, o := range opts {
		o(c)
	}
	setDefault(&c.Target, DefaultTarget)
	setDefault(&c.Platform, DefaultPlatform)
	setDefault(&c.App, DefaultApp)
	setDefault(&c.TemplateID, DefaultTemplateID)
	setDefault(&c.ContentWord, DefaultContentWord)
	setDefault(&c.ContentRule, DefaultContentRule)
	if math.IsNaN(c.Rate) {
		c.Rate = DefaultRate
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.RampStep == 0 {
		c.RampStep = DefaultRampStep
	}
	if c.Fanout == 0 {
		c.Fanout = DefaultFanout
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Users == 0 {
		c.Users = DefaultUsers
	}
	if c.NoGrantUsers == 0 {
		c.NoGrantUsers = DefaultNoGrantUsers
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.SenderURL == "" && c.MockURL == "" {
		c.Self = true
	}
	if c.Mix.Empty() {
		m := scenario.MustParseMix(scenario.DefaultMix)
		if c.Target == TargetMock {
			m = m.Without(scenario.Broadcast)
		}
		c.Mix = m
	}
	return c, c.validate()
}

func setDefault(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Target {
	case TargetSender:
		if !c.Self {
			if c.SenderURL == "" {
				bad("target sender: give -sender-url (or run self-contained with -self)")
			}
			if c.APIKey == "" {
				bad("target sender: give -api-key (or MINIPUSH_LOADTEST_API_KEY)")
			}
			if c.MockURL == "" {
				bad("target sender: give -mock-url too: the run provisions users there and reconciles against its inbox")
			}
		}
	case TargetMock:
		if c.Mix.Weight(scenario.Broadcast) > 0 {
			bad("mix: the mock has no broadcast API; drop broadcast from -mix for -target mock")
		}
		if !c.Self && c.MockURL == "" {
			bad("target mock: give -mock-url (or run self-contained with -self)")
		}
	default:
		bad("target %q: want sender or mock", c.Target)
	}
	switch {
	case !slices.Contains(Platforms, c.Platform):
		bad("platform %q: want one of %s", c.Platform, strings.Join(Platforms, ", "))
	case c.Platform != mockapi.PlatformWeChat:
		// Other platforms run self-contained through the sender: selfhost
		// seeds their app and keys. Their refusal codes differ, so the
		// kinds judged by WeChat's codes and keyword rules stay WeChat's.
		if c.Target != TargetSender || !c.Self {
			bad("platform %s: runs self-contained against the sender (-self -target sender); the mock-direct target and a running sender are WeChat only", c.Platform)
		}
		for _, k := range []scenario.Kind{scenario.NoGrant, scenario.BadKeyword} {
			if c.Mix.Weight(k) > 0 {
				bad("mix: %s is judged by WeChat's codes; drop it from -mix for platform %s (valid, content and broadcast run on every platform)", k, c.Platform)
			}
		}
	}
	if c.Self && (c.SenderURL != "" || c.MockURL != "") {
		bad("-self starts its own mock and sender: drop -sender-url/-mock-url, or drop -self")
	}
	switch {
	case c.Rate < 0 || math.IsInf(c.Rate, 0) || math.IsNaN(c.Rate):
		bad("rate must be >= 0, got %v", c.Rate)
	case c.Rate == 0 && c.MaxWorkers == 0:
		bad("rate 0 (as fast as possible) needs -max-workers: an open model has no natural limit")
	case c.Rate == 0 && len(c.Ramp) > 0:
		bad("rate 0 (as fast as possible) cannot follow a ramp")
	}
	if c.Duration <= 0 {
		bad("duration must be > 0, got %s", c.Duration)
	}
	if c.RampStep <= 0 {
		bad("ramp step must be > 0, got %s", c.RampStep)
	}
	for _, r := range c.Ramp {
		if !(r > 0) {
			bad("ramp rates must be > 0, got %v", r)
		}
	}
	if c.Fanout < 1 || c.Fanout > 100 || c.Fanout > c.Users {
		bad("fanout must be 1..100 and at most the granted users (%d), got %d", c.Users, c.Fanout)
	}
	if c.Users < 1 || c.NoGrantUsers < 1 {
		bad("users: need at least one granted and one ungranted user")
	}
	if n := utf8.RuneCountInString(c.ContentWord); n == 0 || n > 16 || strings.IndexFunc(c.ContentWord, func(r rune) bool { return !unicode.IsGraphic(r) }) >= 0 {
		bad("content word %q: want 1-16 printable characters (it must fit a 20-character thing keyword)", c.ContentWord)
	}
	if c.Timeout <= 0 || c.DrainTimeout <= 0 {
		bad("timeouts must be > 0")
	}
	return errors.Join(errs...)
}

// steps returns the schedule (nil for the as-fast-as-possible mode).
func (c *Config) steps() (*pacer.Steps, error) {
	if c.Rate == 0 {
		return nil, nil
	}
	return pacer.Plan(c.Ramp, c.RampStep, c.Rate, c.Duration)
}

// expectedMessages estimates how many messages a run delivers, to size
// the self-contained mock's inbox.
func (c *Config) expectedMessages(planned uint64) int {
	perRequest := 0.0
	total := 0
	for _, k := range scenario.Kinds {
		w := c.Mix.Weight(k)
		total += w
		switch k {
		case scenario.Broadcast:
			perRequest += float64(w * c.Fanout)
		default:
			perRequest += float64(w)
		}
	}
	n := float64(planned) * perRequest / float64(max(total, 1))
	return int(min(n*1.2+10_000, 2_000_000))
}

// Run performs one load run and returns its report. The error is non-nil
// only when the run could not be carried out (bad setup, unreachable
// target, interrupted); a breached threshold is a report with Passed
// false.
func Run(ctx context.Context, opts ...Option) (*report.Report, error) {
	cfg, err := NewConfig(opts...)
	if err != nil {
		return nil, err
	}
	return RunConfig(ctx, cfg)
}

// RunConfig is Run with a configuration from NewConfig.
func RunConfig(ctx context.Context, cfg *Config) (*report.Report, error) {
	return run(ctx, cfg)
}

// env is what the run talks to.
type env struct {
	cfg     *Config
	control *mockclient.Client
	hc      *http.Client // control and reconciliation calls
	// sender is the sender's client (TargetSender): requests are built by
	// it and the reconciliation reads through it.
	sender *senderclient.Client
	// senders are the clients of every instance (SenderURLs; sender
	// first), senderBases their URLs.
	senders     []*senderclient.Client
	senderBases []string

	runID      string
	appID      string
	appSecret  string
	token      string // the mock-direct target's access token
	users      []string
	noGrant    []string
	cleanup    []func(context.Context) error
	senderBase string
	mockBase   string
	// fetchesBefore is the sender's token fetch count when the run began.
	fetchesBefore int
	retriesBefore map[string]int
}

func newRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "lt" + hex.EncodeToString(b)
}

func run(ctx context.Context, cfg *Config) (out *report.Report, err error) {
	began := time.Now()
	rep := &report.Report{Version: 1, Target: cfg.Target, Platform: cfg.Platform, Self: cfg.Self, Started: began,
		Mix: cfg.Mix.String(), Seed: cfg.Seed, TargetRate: cfg.Rate, CPUs: runtime.NumCPU(),
		LoadAverageStart: loadAverage()}
	steps, err := cfg.steps()
	if err != nil {
		return nil, err
	}
	e := &env{cfg: cfg, runID: newRunID(), hc: &http.Client{Timeout: 60 * time.Second}}
	rep.RunID = e.runID
	defer func() {
		// Cleanup outlives a cancelled ctx: faults must not stay behind
		// on a shared mock. A failure is reported with the results (they
		// stand), or joined to the run's error.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for i := len(e.cleanup) - 1; i >= 0; i-- {
			cerr := e.cleanup[i](cctx)
			switch {
			case cerr == nil:
			case out != nil:
				cfg.Log.Warn("clean up", "err", cerr)
				out.Notes = append(out.Notes, "clean up failed: "+cerr.Error())
			default:
				err = errors.Join(err, fmt.Errorf("clean up: %w", cerr))
			}
		}
	}()
	if err := e.setUp(ctx, steps); err != nil {
		return nil, err
	}
	tgt := e.newTarget()
	if cfg.Target == TargetSender {
		// A running sender counts from its start.
		e.fetchesBefore, e.retriesBefore, _ = e.senderCounters(ctx)
	}

	res, err := e.attack(ctx, tgt, steps, rep)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("run interrupted: %w", err)
	}
	in, drain, err := tgt.reconcileInput(ctx, e, res.records, began)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	rep.DrainS, rep.DrainTimedOut, rep.DrainPending = drain.waited.Seconds(), drain.timedOut, drain.pending
	rep.DrainTimeoutS = cfg.DrainTimeout.Seconds()
	rep.Notes = append(rep.Notes, drain.notes...)
	if cfg.Target == TargetSender {
		if n, retries, err := e.senderCounters(ctx); err == nil {
			n -= e.fetchesBefore
			rep.TokenFetches = &n
			for o, k := range retries {
				if k -= e.retriesBefore[o]; k > 0 {
					if rep.SenderRetries == nil {
						rep.SenderRetries = map[string]int{}
					}
					rep.SenderRetries[o] = k
				}
			}
		}
	}
	rc := reconcile.Reconcile(in)
	rep.Reconciliation = rc
	rep.Accepted, rep.Delivered, rep.Rejected, rep.Lost, rep.Duplicated = rc.Accepted, rc.Delivered, rc.Rejected, rc.Lost, rc.Duplicated
	for code, n := range drain.finalCodes {
		rep.BusinessCodes[code] += n
	}

	rep.ElapsedS = time.Since(began).Seconds()
	rep.LoadAverageEnd = loadAverage()
	results := threshold.Evaluate(cfg.Thresholds, rep.Values())
	rep.Thresholds = report.FromResults(results)
	rep.Passed = len(threshold.Breached(results)) == 0
	return rep, nil
}

// setUp starts or reaches the mock (and sender), provisions the app,
// users and grants the run addresses, and injects faults.
func (e *env) setUp(ctx context.Context, steps *pacer.Steps) error {
	cfg := e.cfg
	for i := range cfg.Users {
		e.users = append(e.users, selfhost.UserNameFor(cfg.Platform, i))
	}
	for i := range cfg.NoGrantUsers {
		e.noGrant = append(e.noGrant, selfhost.NoGrantNameFor(cfg.Platform, i))
	}
	if cfg.Self {
		planned := uint64(cfg.Duration.Seconds() * 20_000) // as fast as possible: a generous guess
		if steps != nil {
			planned = steps.Planned()
		}
		w, err := selfhost.Start(ctx, selfhost.Options{Platform: cfg.Platform, Users: cfg.Users, NoGrantUsers: cfg.NoGrantUsers,
			InboxLimit: cfg.expectedMessages(planned), WithSender: cfg.Target == TargetSender,
			Configure: cfg.ConfigureSender, Log: cfg.SenderLog})
		if err != nil {
			return err
		}
		e.cleanup = append(e.cleanup, func(context.Context) error { return w.Close() })
		e.control, e.mockBase, e.senderBase = w.Control, w.MockURL, w.SenderURL
		e.appID, e.appSecret = w.AppID, w.AppSecret
		cfg.APIKey, cfg.App, cfg.TemplateID = w.APIKey, w.App, w.TemplateID
		cfg.ContentWord, cfg.ContentRule = w.ContentWord, w.ContentRule
		cfg.AppID = w.AppID
		if cfg.Target == TargetMock {
			if err := e.fetchToken(ctx); err != nil {
				return err
			}
		}
	} else {
		e.mockBase = strings.TrimRight(cfg.MockURL, "/")
		e.senderBase = strings.TrimRight(cfg.SenderURL, "/")
		e.control = mockclient.New(e.mockBase, mockclient.WithHTTPClient(e.hc), mockclient.WithToken(cfg.MockToken))
		if err := e.control.Ready(ctx); err != nil {
			return fmt.Errorf("mock at %s not ready: %w", e.mockBase, err)
		}
		if err := e.provision(ctx); err != nil {
			return err
		}
	}
	if cfg.Target == TargetSender {
		e.senderBases = []string{e.senderBase}
		for _, u := range cfg.SenderURLs {
			if u = strings.TrimRight(u, "/"); u != e.senderBase {
				e.senderBases = append(e.senderBases, u)
			}
		}
		for _, base := range e.senderBases {
			c, err := senderclient.New(base, senderclient.WithAPIKey(cfg.APIKey), senderclient.WithHTTPClient(e.hc),
				senderclient.WithUserAgent("minipush-loadtest"))
			if err != nil {
				return fmt.Errorf("sender at %q: %w", base, err)
			}
			e.senders = append(e.senders, c)
		}
		e.sender = e.senders[0]
	}
	for _, f := range cfg.Faults {
		if f.Platform == "" {
			f.Platform = cfg.Platform
		}
		if f.AppID == "" {
			f.AppID = e.appID // never disturb other apps on a shared mock
		}
		id, err := e.control.AddFault(ctx, f)
		if err != nil {
			return fmt.Errorf("inject fault on %s: %w", f.Endpoint, err)
		}
		e.cleanup = append(e.cleanup, func(ctx context.Context) error { return e.control.DeleteFault(ctx, id) })
	}
	return nil
}

// attackResult is what the attack phase hands to reconciliation.
type attackResult struct {
	records []*record
}

// attack runs the schedule with one vegeta Attacker and records every
// answer.
func (e *env) attack(ctx context.Context, tgt target, steps *pacer.Steps, rep *report.Report) (*attackResult, error) {
	cfg := e.cfg
	var (
		pace     vegeta.Pacer = vegeta.ConstantPacer{} // zero value: as fast as workers allow
		total                 = cfg.Duration
		nSteps                = 1
		stepInfo []report.Step
	)
	if steps != nil {
		pace, total, nSteps = steps, steps.Total(), len(steps.Steps())
		for _, s := range steps.Steps() {
			stepInfo = append(stepInfo, report.Step{TargetRate: s.Rate, DurationS: s.Duration.Seconds()})
		}
		rep.Planned = steps.Planned()
	} else {
		stepInfo = []report.Step{{TargetRate: 0, DurationS: cfg.Duration.Seconds()}}
	}
	bucket := max(time.Second, (total / 600).Round(time.Second))

	var book book
	targeter := func(t *vegeta.Target) error {
		rec := book.add(func(n uint64) *record {
			return &record{n: n, kind: cfg.Mix.Pick(cfg.Seed, n), marker: scenario.Marker(e.runID, n)}
		})
		if err := tgt.request(rec, t); err != nil {
			return err
		}
		// The fragment carries the request number back in the result's
		// URL; clients never send fragments, so the target never sees it.
		t.URL += "#" + strconv.FormatUint(rec.n, 10)
		return nil
	}

	atk := vegeta.NewAttacker(vegeta.Timeout(cfg.Timeout), vegeta.Workers(cfg.Workers),
		vegeta.MaxWorkers(orMax(cfg.MaxWorkers)), vegeta.KeepAlive(true), vegeta.MaxBody(1<<20),
		vegeta.Connections(10_000))
	start := time.Now()
	rec := stats.New(start, nSteps, bucket)
	stopProgress := e.progress(rec, total, start)
	results := atk.Attack(vegeta.Targeter(targeter), pace, total, "minipush-loadtest")
	stopped := false
	var examples []string
	seen := map[string]bool{}
	for res := range results {
		if ctx.Err() != nil && !stopped {
			atk.Stop()
			stopped = true
		}
		s := stats.Sample{Start: res.Timestamp, Latency: res.Latency, Status: int(res.Code)}
		if steps != nil {
			due := steps.Due(res.Seq)
			s.Step = steps.StepAt(due)
			s.Lag = max(res.Timestamp.Sub(start.Add(due)), 0)
		}
		r := book.lookup(res.URL)
		if r == nil {
			// A targeter failure (it stopped the attack) or a result we
			// cannot place: count it as an error of no kind.
			s.Kind, s.Codes = "unknown", []string{"transport"}
			rec.Add(s)
			continue
		}
		tgt.classify(r, res)
		s.Kind, s.OK, s.Codes = string(r.kind), r.ok, r.codes
		rec.Add(s)
		// One example per kind and answer code: the details differ in
		// request ids and would crowd out rarer errors.
		if shape := string(r.kind) + strings.Join(r.codes, ","); r.detail != "" && len(examples) < maxErrorExamples && !seen[shape] {
			seen[shape] = true
			examples = append(examples, r.detail)
		}
	}
	stopProgress()

	snap := rec.Snapshot()
	for i := range stepInfo {
		if i < len(snap.Steps) {
			stepInfo[i].Step = snap.Steps[i]
		}
	}
	steady := stepInfo[len(stepInfo)-1]
	rep.Steps = stepInfo
	rep.Rate, rep.Latency = steady.Rate, steady.Latency
	rep.LatencyAll, rep.Lag = snap.Latency, snap.Lag
	rep.DurationS = total.Seconds()
	rep.Requests, rep.Errors = snap.Requests, snap.Errors
	if snap.Requests > 0 {
		rep.ErrorRate = float64(snap.Errors) / float64(snap.Requests)
	}
	rep.StatusCodes = map[string]int{}
	for code, n := range snap.Status {
		name := fmt.Sprint(code)
		if code == 0 {
			name = "transport_error"
		}
		rep.StatusCodes[name] = n
	}
	rep.BusinessCodes = snap.Business
	rep.ErrorExamples = examples
	rep.Kinds = snap.Kinds
	rep.Timeline, rep.BucketS = snap.Timeline, snap.Bucket.Seconds()
	if steps == nil {
		rep.Planned = uint64(snap.Requests)
	}
	return &attackResult{records: book.all()}, nil
}

// maxErrorExamples bounds the distinct unexpected answers a report quotes.
const maxErrorExamples = 5

func orMax(n uint64) uint64 {
	if n == 0 {
		return vegeta.DefaultMaxWorkers
	}
	return n
}

// book holds one record per request, indexed by request number. The
// targeter adds from vegeta's workers; the result loop looks up.
type book struct {
	mu   sync.Mutex
	recs []*record
}

// add numbers and stores a new record built by mk.
func (b *book) add(mk func(n uint64) *record) *record {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := mk(uint64(len(b.recs)))
	b.recs = append(b.recs, r)
	return r
}

// lookup finds the record of a result by the request number in its URL
// fragment.
func (b *book) lookup(url string) *record {
	i := strings.LastIndexByte(url, '#')
	if i < 0 {
		return nil
	}
	n, err := strconv.ParseUint(url[i+1:], 10, 64)
	if err != nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if n >= uint64(len(b.recs)) {
		return nil
	}
	return b.recs[n]
}

func (b *book) all() []*record {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*record(nil), b.recs...)
}
