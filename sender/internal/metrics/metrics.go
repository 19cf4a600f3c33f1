// Package metrics is the sender's Prometheus instrumentation: one registry
// per service value (no global default registry, so several services can
// run in one test process).
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/minipush/minipush/sender/internal/message"
)

// Metrics holds the sender's collectors.
type Metrics struct {
	reg      *prometheus.Registry
	Accepted *prometheus.CounterVec // app
	Rejected *prometheus.CounterVec // app, rule
	// CampaignHeld and CampaignRejected count what the campaign rules
	// made of messages at admission (docs/campaigns.md): held by
	// quiet_hours or frequency_cap, rejected as duplicate or over a
	// frequency_cap.
	CampaignHeld     *prometheus.CounterVec // app, rule
	CampaignRejected *prometheus.CounterVec // app, rule
	Delivered        *prometheus.CounterVec // app, platform
	Failed           *prometheus.CounterVec // app, platform, code, reason
	Retries          *prometheus.CounterVec // app, platform, outcome, reason
	TokenFetch       *prometheus.CounterVec // app, result
	// TokenFetchLimited counts the times an app reached its token fetch
	// limit (tokens.max_fetches per tokens.fetch_window).
	TokenFetchLimited *prometheus.CounterVec   // app
	SendLatency       *prometheus.HistogramVec // platform
	// OutcomeWrite is how long recording a send's outcome took, retries
	// included: it must stay well inside the lease (docs/delivery.md).
	OutcomeWrite prometheus.Histogram
	// LeaseLost counts outcomes refused because the message had been
	// claimed again since.
	LeaseLost *prometheus.CounterVec // app

	// Platform events and the consent ledger (docs/events.md).
	PlatformEvents *prometheus.CounterVec // app, outcome, reason
	ConsentChanges *prometheus.CounterVec // app, kind
	ConsentHeld    *prometheus.CounterVec // app, mode, reason
	ConsentLearned *prometheus.CounterVec // app
	Receipts       *prometheus.CounterVec // app, status

	// Result webhooks (docs/webhooks.md): attempts by outcome (succeeded,
	// retry, failed) and their latency.
	WebhookDeliveries *prometheus.CounterVec // outcome
	WebhookLatency    prometheus.Histogram
	// CSV audiences and schedules (issue 16).
	AudienceRows *prometheus.CounterVec // app, result (accepted, rejected)
	ScheduleRuns *prometheus.CounterVec // app, outcome (created, skipped, failed)
}

// New registers the collectors; depth reports the queue per status on each
// scrape.
func New(depth func(ctx context.Context) (map[message.Status]int, error)) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		Accepted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_messages_accepted_total",
			Help: "Messages accepted by the API and committed to storage."}, []string{"app"}),
		CampaignHeld: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_campaign_held_total",
			Help: "Messages the campaign rules held at admission (rule: quiet_hours, frequency_cap)."}, []string{"app", "rule"}),
		CampaignRejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_campaign_rejected_total",
			Help: "Messages the campaign rules rejected at admission (rule: duplicate, frequency_cap)."}, []string{"app", "rule"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_messages_rejected_total",
			Help: "Messages refused by validation or content rules (rule = the rule's name)."}, []string{"app", "rule"}),
		Delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_messages_delivered_total",
			Help: "Messages the platform accepted."}, []string{"app", "platform"}),
		Failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_messages_failed_total",
			Help: "Messages that ended failed or rejected, by the platform's code and the reason (the sender's vocabulary)."},
			[]string{"app", "platform", "code", "reason"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_send_retries_total",
			Help: "Attempts that will be retried, by outcome (retryable, throttled, token) and reason."},
			[]string{"app", "platform", "outcome", "reason"}),
		TokenFetch: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_token_fetches_total",
			Help: "Access-token fetches from the platform."}, []string{"app", "result"}),
		TokenFetchLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_token_fetch_limited_total",
			Help: "Times an app reached its access-token fetch limit and was paused."}, []string{"app"}),
		SendLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "minipush_send_latency_seconds",
			Help: "Latency of platform send calls.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 15)}, []string{"platform"}),
		OutcomeWrite: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "minipush_outcome_write_seconds",
			Help:    "Time to record a send's outcome in storage, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18)}),
		LeaseLost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_outcomes_refused_total",
			Help: "Outcomes storage refused because the message had been claimed again after the worker's lease ran out."},
			[]string{"app"}),
	}
	m.PlatformEvents = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_platform_events_total",
		Help: "Pushes from the platforms: stored, duplicate (a re-send), handshake, or refused (reason: signature, stale, encryption, appid, malformed)."},
		[]string{"app", "outcome", "reason"})
	m.ConsentChanges = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_consent_changes_total",
		Help: "Consent ledger changes the platforms' events made: users' accepts and rejects."}, []string{"app", "kind"})
	m.ConsentHeld = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_consent_held_total",
		Help: "Sends the consent ledger held back (mode enforce: not sent, rejected not_subscribed) or would have (mode observe: sent)."},
		[]string{"app", "mode", "reason"})
	m.ConsentLearned = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_consent_learned_total",
		Help: "Not-subscribed answers from the platform the consent ledger recorded."}, []string{"app"})
	m.Receipts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_receipts_total",
		Help: "The platforms' delivery receipts of accepted messages (WeChat subscribe_msg_sent_event), by status."},
		[]string{"app", "status"})
	m.WebhookDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_webhook_deliveries_total",
		Help: "Result-webhook POSTs by outcome: succeeded (2xx), retry (failed, will be retried), failed (failed, retry window over)."},
		[]string{"outcome"})
	m.WebhookLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "minipush_webhook_latency_seconds",
		Help: "Time from a result-webhook POST to its answer (or error).", Buckets: prometheus.ExponentialBuckets(0.001, 2, 15)})
	reg.MustRegister(m.WebhookDeliveries, m.WebhookLatency)
	m.AudienceRows = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_audience_rows_total",
		Help: "Rows of CSV audiences stored: accepted (a member) or rejected (a bad row, listed in the upload's report)."},
		[]string{"app", "result"})
	m.ScheduleRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minipush_schedule_runs_total",
		Help: "Runs of recurring schedules: created (a broadcast), skipped (missed, not caught up) or failed (the broadcast was refused)."},
		[]string{"app", "outcome"})
	reg.MustRegister(m.Accepted, m.Rejected, m.CampaignHeld, m.CampaignRejected, m.Delivered, m.Failed, m.Retries, m.TokenFetch, m.TokenFetchLimited, m.SendLatency,
		m.OutcomeWrite, m.LeaseLost, m.PlatformEvents, m.ConsentChanges, m.ConsentHeld, m.ConsentLearned, m.Receipts,
		m.AudienceRows, m.ScheduleRuns,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&depthCollector{depth: depth, desc: prometheus.NewDesc("minipush_queue_depth",
			"Messages per status in storage.", []string{"status"}, nil)})
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveSend records one send's latency.
func (m *Metrics) ObserveSend(platform string, d time.Duration) {
	m.SendLatency.WithLabelValues(platform).Observe(d.Seconds())
}

type depthCollector struct {
	depth func(ctx context.Context) (map[message.Status]int, error)
	desc  *prometheus.Desc
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	if c.depth == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.depth(ctx)
	if err != nil {
		return
	}
	for _, s := range message.Statuses {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}

// WatchWebhooks exports the result-webhook outbox — deliveries pending
// and failed — as minipush_webhook_queue, read from counts on each scrape.
func (m *Metrics) WatchWebhooks(counts func(ctx context.Context) (map[message.WebhookStatus]int, error)) {
	m.reg.MustRegister(&webhookCollector{counts: counts, desc: prometheus.NewDesc("minipush_webhook_queue",
		"Result-webhook deliveries waiting (pending) and given up (failed; an operator may redeliver them).",
		[]string{"status"}, nil)})
}

type webhookCollector struct {
	counts func(ctx context.Context) (map[message.WebhookStatus]int, error)
	desc   *prometheus.Desc
}

func (c *webhookCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *webhookCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := c.counts(ctx)
	if err != nil {
		return
	}
	for _, st := range []message.WebhookStatus{message.WebhookPending, message.WebhookFailed} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n[st]), string(st))
	}
}

// WatchApps exports each app's health (1 healthy, 0 its credentials were
// refused) as minipush_app_healthy, read from healthy on each scrape.
func (m *Metrics) WatchApps(healthy func() map[string]bool) {
	m.reg.MustRegister(&appCollector{healthy: healthy, desc: prometheus.NewDesc("minipush_app_healthy",
		"1 while the platform accepts the app's credentials, 0 once it refused them (until they work again).",
		[]string{"app"}, nil)})
}

type appCollector struct {
	healthy func() map[string]bool
	desc    *prometheus.Desc
}

func (c *appCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *appCollector) Collect(ch chan<- prometheus.Metric) {
	for app, ok := range c.healthy() {
		v := 0.0
		if ok {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, app)
	}
}
