// Package sender is minipush's production service: an HTTP API that accepts
// subscribe messages (to one user or a group), stores them durably, and a
// dispatcher that delivers them through per-app platform clients with
// token management, rate shaping, retries with backoff, dead letters,
// content rules and idempotency; it receives the platforms' pushes and
// keeps a consent ledger from them (docs/events.md).
//
// A Service is a value built from a config.Config: several can run in one
// process (tests do).
package sender

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/minipush/minipush/internal/httpserver"
	"github.com/minipush/minipush/sender/internal/api"
	"github.com/minipush/minipush/sender/internal/apphealth"
	"github.com/minipush/minipush/sender/internal/bulk"
	"github.com/minipush/minipush/sender/internal/campaign"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/consent"
	"github.com/minipush/minipush/sender/internal/console"
	"github.com/minipush/minipush/sender/internal/contentrules"
	"github.com/minipush/minipush/sender/internal/dispatch"
	"github.com/minipush/minipush/sender/internal/events"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/metrics"
	"github.com/minipush/minipush/sender/internal/ratelimit"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/schedule"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/templates"
	"github.com/minipush/minipush/sender/internal/tokens"
	"github.com/minipush/minipush/sender/internal/webhook"
)

// Config is the service configuration (see the README for the schema).
type Config = config.Config

// LoadConfig reads a YAML file and MINIPUSH_* variables over the defaults
// and validates the result.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	return config.Load(path, getenv)
}

// Service is one sender.
type Service struct {
	cfg        *config.Config
	log        *slog.Logger
	store      storage.Store
	dispatcher *dispatch.Dispatcher
	health     *apphealth.Tracker
	bulk       *bulk.Runner
	schedules  *schedule.Runner // nil when the store keeps no schedules
	processor  *events.Processor
	webhooks   *webhook.Deliverer
	api        *api.API
	console    *console.Console
	metrics    *metrics.Metrics
	templates  *templates.Catalog
	handler    http.Handler

	mu      sync.Mutex
	running bool
}

// Option configures a Service.
type Option func(*options)

type options struct {
	httpClient    *http.Client
	webhookClient *http.Client
	now           func() time.Time
	clock         func() time.Time // schedules'; default now
}

// WithHTTPClient sets the client platform calls use (tests).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithClock replaces the clock of the API (admission: send_at, campaign
// rules) and of the dispatcher (what is due) — tests move it instead of
// sleeping. Token lifetimes and storage's own stamps keep the wall clock.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithWebhookClient sets the client result-webhook POSTs use (its
// Timeout is replaced by webhooks.timeout).
func WithWebhookClient(c *http.Client) Option { return func(o *options) { o.webhookClient = c } }

// WithScheduleClock sets the clock recurring schedules are judged by: when
// runs are due, and the times a new schedule starts from (tests and the
// acceptance suite move it instead of waiting). Default: WithClock's, else
// time.Now.
func WithScheduleClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// New opens storage and builds the service. Close releases it.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opts ...Option) (*Service, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.httpClient == nil {
		o.httpClient = defaultHTTPClient(cfg.Delivery)
	}
	if o.clock == nil {
		o.clock = o.now
	}
	if o.clock == nil {
		o.clock = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Before storage opens: a database the sender creates is private, one
	// that exists keeps its mode and is reported here.
	for _, e := range cfg.Exposed() {
		log.Warn("a file holding secrets is readable by group or others: chmod 600 it (or 700 its directory)",
			"file", e.Path, "setting", e.What, "mode", fmt.Sprintf("%#o", e.Mode))
	}
	store, shared, err := openStore(ctx, cfg.Storage, cfg.Delivery.PollInterval, log)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: log, store: store}
	s.metrics = metrics.New(store.Counts)
	names := make([]string, len(cfg.Apps))
	for i, a := range cfg.Apps {
		names[i] = a.Name
	}
	s.health = apphealth.New(names, time.Now)
	s.metrics.WatchApps(func() map[string]bool {
		out := map[string]bool{}
		for app, st := range s.health.Snapshot() {
			out[app] = st.Healthy
		}
		return out
	})
	content, err := contentrules.New(cfg.ContentRules)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	apps := map[string]*dispatch.App{}
	brokers := map[string]*tokens.Broker{}
	listers := map[string]templates.Lister{}
	for _, a := range cfg.Apps {
		client, err := newClient(a, cfg, store, o.httpClient, s.metrics, s.health, log)
		if err != nil {
			_ = store.Close()
			return nil, fmt.Errorf("app %s: %w", a.Name, err)
		}
		if tc, ok := client.(interface{ Tokens() *tokens.Broker }); ok {
			brokers[a.Name] = tc.Tokens()
		}
		if l, ok := client.(templates.Lister); ok {
			listers[a.Name] = l
		}
		perSecond, burst, perUser := rateFor(a)
		var shape []ratelimit.Option
		if shared != nil {
			// The platform's cap is the deployment's: every instance
			// shares one limit and one pause (docs/redis.md).
			shape = append(shape, ratelimit.WithShared(shared.Limiter(a.Name, perSecond, burst, perUser)))
		}
		mode := consent.ModeObserve
		if a.Consent == config.ConsentEnforce {
			mode = consent.ModeEnforce
		}
		apps[a.Name] = &dispatch.App{Name: a.Name, Platform: a.Platform, Client: client,
			Shaper: ratelimit.New(perSecond, burst, perUser, shape...), ContentCheck: a.ContentCheck,
			Consent: consent.NewGate(a.Name, mode, store, observer{s.metrics, s.health}, gateOptions(a)...)}
	}
	dopts := []dispatch.Option{dispatch.WithObserver(observer{s.metrics, s.health})}
	if o.now != nil {
		dopts = append(dopts, dispatch.WithClock(o.now))
	}
	s.dispatcher = dispatch.New(store, apps, cfg.Delivery, log, dopts...)
	s.bulk = bulk.New(store, log, bulk.WithFannedOut(func(int) { s.dispatcher.Wake() }),
		bulk.WithKeyWindow(cfg.Idempotency.Window),
		bulk.WithRetention(map[message.Status]time.Duration{message.StatusDelivered: cfg.Retention.Delivered,
			message.StatusFailed: cfg.Retention.Failed, message.StatusRejected: cfg.Retention.Rejected,
			message.StatusCancelled: cfg.Retention.Cancelled}))
	evApps, err := eventApps(cfg.Apps)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	s.processor = events.NewProcessor(evApps, store, log.With("part", "events"), events.WithObserver(observer{s.metrics, s.health}))
	receiver, err := events.NewReceiver(evApps, store, log.With("part", "events"), events.WithObserver(observer{s.metrics, s.health}),
		events.WithStored(s.processor.Wake))
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	// Messages are checked against their apps' templates before the 202
	// (fetched from the platforms' lists, or declared in the config).
	s.templates = templates.New(templates.FromConfig(cfg.Apps, listers),
		templates.WithLogger(log.With("part", "templates")))
	s.templates.Watch(time.Second)
	if err := store.SetWebhookScope(ctx, webhookScope(cfg)); err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	s.metrics.WatchWebhooks(store.WebhookCounts)
	w := cfg.Webhooks
	s.webhooks = webhook.New(webhook.Config{Store: store, Target: func(app, key string) (webhook.Target, bool) {
		h := cfg.WebhookOf(app, key)
		if h == nil {
			return webhook.Target{}, false
		}
		return webhook.Target{URL: h.URL, Secret: []byte(h.Secret)}, true
	}, Client: o.webhookClient, Timeout: w.Timeout, BackoffBase: w.BackoffBase, BackoffMax: w.BackoffMax,
		RetryWindow: w.RetryWindow, Workers: w.Workers, PollInterval: w.PollInterval, Log: log.With("part", "webhooks"),
		Observe: func(outcome string, d time.Duration) {
			s.metrics.WebhookDeliveries.WithLabelValues(outcome).Inc()
			s.metrics.WebhookLatency.Observe(d.Seconds())
		}})
	// Campaign rules apply to every broadcast: a group's members at its
	// fan-out, a schedule's runs (docs/campaigns.md).
	rules := map[string]*campaign.Rules{}
	for _, a := range cfg.Apps {
		rules[a.Name], _ = campaign.New(a.Campaigns) // config.Validate refused a bad one
	}
	admitNow := o.now
	if admitNow == nil {
		admitNow = time.Now
	}
	campaignCounted := func(app, what, rule string) {
		if what == "held" {
			s.metrics.CampaignHeld.WithLabelValues(app, rule).Inc()
		} else {
			s.metrics.CampaignRejected.WithLabelValues(app, rule).Inc()
		}
	}
	if fa, ok := store.(storage.FanOutAdmitter); ok {
		fa.SetFanOutAdmit(func(b message.Broadcast, m *message.Message) { rules[b.App].FanOut(b, m, admitNow()) },
			func(b message.Broadcast, ms []message.Message) {
				for i := range ms {
					campaign.Count(&ms[i], func(what, rule string) { campaignCounted(b.App, what, rule) })
				}
			})
	}
	scheduleChanged := func() {}
	if st, ok := store.(schedule.Store); ok {
		s.schedules = schedule.New(st, o.clock, log.With("part", "schedules"), schedule.Hooks{
			Queued:   s.dispatcher.Wake,
			FanOut:   s.bulk.Wake,
			Ran:      func(app, outcome string) { s.metrics.ScheduleRuns.WithLabelValues(app, outcome).Inc() },
			Accepted: func(app string, n int) { s.metrics.Accepted.WithLabelValues(app).Add(float64(n)) },
			Rules:    func(app string) *campaign.Rules { return rules[app] },
			Campaign: campaignCounted,
		}, schedule.DefaultPoll)
		scheduleChanged = s.schedules.Wake
	}
	s.api = api.New(store, cfg, content, api.Hooks{
		Redelivered: s.webhooks.Wake,
		Queued:      s.dispatcher.Wake,
		FanOut:      s.bulk.Wake,
		Accepted:    func(app string, n int) { s.metrics.Accepted.WithLabelValues(app).Add(float64(n)) },
		Rejected:    func(app, rule string) { s.metrics.Rejected.WithLabelValues(app, rule).Inc() },
		Campaign:    campaignCounted,
		AudienceRows: func(app string, r *message.AudienceReport) {
			s.metrics.AudienceRows.WithLabelValues(app, "accepted").Add(float64(r.Accepted))
			s.metrics.AudienceRows.WithLabelValues(app, "rejected").Add(float64(r.Rejected))
		},
		ScheduleNow:     o.clock,
		ScheduleChanged: scheduleChanged,
		Ready:           s.ready,
		Metrics:         s.metrics.Handler(),
		Runtime:         func(app string) api.AppRuntime { return s.runtime(app, brokers) },
		Resume:          s.dispatcher.Resume,
		Templates:       s.templates,
	}, log)
	if o.now != nil {
		s.api.WithClock(o.now)
	}
	// The platforms' pushes carry the platform's signatures, not an API
	// key: they are served beside the API, not behind its key check.
	apiHandler := s.api.Handler()
	// The web console reads and acts through the same API handler, with
	// the signed-in key (sender/internal/console).
	// Its sign-in sessions live in the store when it keeps them, so that
	// every instance on one Redis (or one SQLite file) knows them.
	copts := console.Options{Log: log.With("part", "console")}
	if ss, ok := store.(storage.Sessions); ok {
		copts.Sessions = ss
	}
	s.console, err = console.New(apiHandler, cfg.APIKeys, names, copts)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	root := mux.NewRouter()
	root.PathPrefix("/v1/platform-events/").Handler(receiver.Handler())
	ch := s.console.Handler()
	root.Path(console.Prefix).Handler(ch)
	root.PathPrefix(console.Prefix + "/").Handler(ch)
	root.PathPrefix("/").Handler(apiHandler)
	s.handler = root
	return s, nil
}

// webhookScope is the messages that have a result webhook: the apps' and
// the API keys' with one.
func webhookScope(cfg *config.Config) storage.WebhookScope {
	var sc storage.WebhookScope
	for _, a := range cfg.Apps {
		if a.Webhook != nil {
			sc.Apps = append(sc.Apps, a.Name)
		}
	}
	for _, k := range cfg.APIKeys {
		if k.Webhook != nil {
			sc.APIKeys = append(sc.APIKeys, k.Name)
		}
	}
	return sc
}

// gateOptions: an app without events keeps observing without reading the
// ledger before each send (docs/events.md).
func gateOptions(a config.App) []consent.GateOption {
	if a.Events == nil {
		return []consent.GateOption{consent.WithoutEvents()}
	}
	return nil
}

// eventApps are the push settings of the apps with events.
func eventApps(apps []config.App) ([]events.App, error) {
	var out []events.App
	for _, a := range apps {
		if a.Events == nil {
			continue
		}
		e := events.App{Name: a.Name, Platform: a.Platform, AppID: a.AppID, Token: a.Events.Token, Secret: a.Secret,
			MaxAge: a.EventsMaxAge(), LongTerm: map[string]bool{}}
		if a.Events.EncodingAESKey != "" {
			key, err := config.AESKey(a.Events.EncodingAESKey)
			if err != nil {
				return nil, fmt.Errorf("app %s: events.encoding_aes_key: %w", a.Name, err)
			}
			e.AESKey = key
		}
		for _, t := range a.LongTermTemplates {
			e.LongTerm[t] = true
		}
		out = append(out, e)
	}
	return out, nil
}

// runtime is what the running sender knows of an app: its token (from
// its platform client's broker), its health and its rate.
func (s *Service) runtime(app string, brokers map[string]*tokens.Broker) api.AppRuntime {
	var rt api.AppRuntime
	if b, ok := brokers[app]; ok {
		st := b.State()
		rt.TokenValidUntil, rt.TokenRefreshedAt, rt.TokenFailures, rt.TokenError = st.ValidUntil, st.RefreshedAt, st.Failures, st.LastError
	}
	h := s.health.Snapshot()[app]
	rt.Healthy, rt.HealthReason, rt.HealthSince = h.Healthy, h.Reason, h.Since
	if a, ok := s.cfg.App(app); ok {
		rt.RatePerSecond, rt.RateBurst, rt.RatePerUser = rateFor(a)
	}
	return rt
}

// Handler serves the HTTP API.
func (s *Service) Handler() http.Handler { return s.handler }

// ready answers /readyz from memory: the dispatcher's state and the
// outcome of storage's last write. It never queries storage — probes are
// anonymous and frequent, and must answer while the disk stalls.
func (s *Service) ready() api.Readiness {
	rd := api.Readiness{Ready: true, Checks: map[string]string{"dispatcher": "running", "storage": "ok"}}
	s.mu.Lock()
	running := s.running
	s.mu.Unlock()
	if !running {
		rd.Ready, rd.Checks["dispatcher"], rd.Error = false, "stopped", "dispatcher not running"
	}
	if err := s.store.Writable(); err != nil {
		rd.Ready, rd.Checks["storage"] = false, err.Error()
		if rd.Error == "" {
			rd.Error = "storage does not take writes"
		}
	}
	// Apps whose credentials the platform refused: detail, not readiness.
	rd.Apps = map[string]api.AppHealth{}
	for app, st := range s.health.Snapshot() {
		rd.Apps[app] = api.AppHealth{Healthy: st.Healthy, Reason: st.Reason, Since: st.Since}
	}
	return rd
}

// Run serves the API on ln (over TLS when the configuration names a
// certificate) and delivers messages until ctx ends, then shuts down
// gracefully: stops accepting, finishes in-flight sends, closes storage.
func (s *Service) Run(ctx context.Context, ln net.Listener) error {
	hs := httpserver.New(s.handler, s.cfg.Server.Limits(), httpserver.WithLogger(s.log))
	hs.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)
	if s.cfg.TLS.Enabled() {
		cert, err := s.cfg.TLS.Load()
		if err != nil {
			return err
		}
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	dctx, stopDispatch := context.WithCancel(ctx)
	defer stopDispatch()
	derr := make(chan error, 1)
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	go func() { derr <- s.dispatcher.Run(dctx) }()
	berr := make(chan error, 1)
	go func() { berr <- s.bulk.Run(dctx) }()
	serr := make(chan error, 1)
	go func() {
		if s.schedules == nil {
			serr <- nil
			return
		}
		serr <- s.schedules.Run(dctx)
	}()
	perr := make(chan error, 1)
	go func() { perr <- s.processor.Run(dctx) }()
	werr := make(chan struct{})
	go func() { s.webhooks.Run(dctx); close(werr) }()
	herr := make(chan error, 1)
	go func() { herr <- hs.Serve(ln) }()
	var first error
	select {
	case <-ctx.Done():
	case err := <-herr:
		first = fmt.Errorf("http server: %w", err)
	case err := <-derr:
		first = fmt.Errorf("dispatcher stopped: %w", err)
		derr <- err
	}
	s.mu.Lock()
	s.running = false
	s.mu.Unlock()
	s.console.Close() // its live streams end, or Shutdown would wait for them
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Delivery.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && first == nil {
		first = fmt.Errorf("http shutdown: %w", err)
	}
	stopDispatch()
	if err := <-derr; err != nil && first == nil {
		first = err
	}
	if err := <-berr; err != nil && first == nil {
		first = fmt.Errorf("bulk storage work: %w", err)
	}
	if err := <-serr; err != nil && first == nil {
		first = fmt.Errorf("schedules: %w", err)
	}
	// Events stored but not processed stay pending in storage: the next
	// start processes them.
	if err := <-perr; err != nil && first == nil {
		first = err
	}
	// A POST cut short by the stop is not recorded: its lease brings it
	// back after the restart (at least once).
	<-werr
	return first
}

// Close releases storage. Call it after Run returns.
func (s *Service) Close() error {
	s.templates.Close()
	return s.store.Close()
}

// StorageRoundTrips reports the round trips made to shared storage
// (Redis) so far; false for the embedded SQLite store. For benchmarks.
func (s *Service) StorageRoundTrips() (uint64, bool) {
	rt, ok := s.store.(interface{ RoundTrips() uint64 })
	if !ok {
		return 0, false
	}
	return rt.RoundTrips(), true
}

// Counts reports messages per status.
func (s *Service) Counts(ctx context.Context) (map[message.Status]int, error) {
	return s.store.Counts(ctx)
}

func defaultHTTPClient(d config.Delivery) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 1024
	tr.MaxIdleConnsPerHost = max(64, d.Workers)
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: tr, Timeout: d.SendTimeout}
}

// rateFor returns an app's limits: configured, else the platform's
// documented cap (Kuaishou 100 QPS; Douyin one message per user per
// second), else unlimited (the dispatcher still backs off on throttling).
func rateFor(a config.App) (perSecond float64, burst int, perUser time.Duration) {
	perSecond, burst, perUser = a.Rate.PerSecond, a.Rate.Burst, a.Rate.PerUserInterval
	switch a.Platform {
	case "kuaishou":
		if perSecond == 0 {
			perSecond = 100
		}
	case "douyin":
		if perUser == 0 {
			perUser = time.Second
		}
	}
	return perSecond, burst, perUser
}

type observer struct {
	m      *metrics.Metrics
	health *apphealth.Tracker
}

func (o observer) Sent(_, platform string, d time.Duration) { o.m.ObserveSend(platform, d) }
func (o observer) Delivered(app, platform string) {
	o.m.Delivered.WithLabelValues(app, platform).Inc()
	o.health.Works(app) // the platform took a send with the app's credentials
}
func (o observer) CredentialsRefused(app, reason string) { o.health.Refused(app, reason) }
func (o observer) Failed(app, platform, code string, why reason.Reason) {
	o.m.Failed.WithLabelValues(app, platform, code, string(why)).Inc()
}
func (o observer) Retried(app, platform string, outcome message.Outcome, why reason.Reason) {
	o.m.Retries.WithLabelValues(app, platform, string(outcome), string(why)).Inc()
}
func (o observer) OutcomeWritten(d time.Duration) { o.m.OutcomeWrite.Observe(d.Seconds()) }
func (o observer) LeaseLost(app string)           { o.m.LeaseLost.WithLabelValues(app).Inc() }

// Consent ledger and platform events.
func (o observer) Held(app string, mode consent.Mode, reason string) {
	o.m.ConsentHeld.WithLabelValues(app, string(mode), reason).Inc()
}
func (o observer) Learned(app string) { o.m.ConsentLearned.WithLabelValues(app).Inc() }
func (o observer) Received(app, outcome, reason string) {
	o.m.PlatformEvents.WithLabelValues(app, outcome, reason).Inc()
}
func (o observer) Consent(app, kind string)   { o.m.ConsentChanges.WithLabelValues(app, kind).Inc() }
func (o observer) Receipt(app, status string) { o.m.Receipts.WithLabelValues(app, status).Inc() }
