package sender

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/minipush/minipush/sender/internal/apphealth"
	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/metrics"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/alipay"
	"github.com/minipush/minipush/sender/internal/platform/baidu"
	"github.com/minipush/minipush/sender/internal/platform/douyin"
	"github.com/minipush/minipush/sender/internal/platform/kuaishou"
	"github.com/minipush/minipush/sender/internal/platform/wechat"
	"github.com/minipush/minipush/sender/internal/tokens"
)

// newClient builds the platform client of one configured app.
func newClient(a config.App, cfg *config.Config, store tokens.Store, hc *http.Client, m *metrics.Metrics,
	health *apphealth.Tracker, log *slog.Logger) (platform.Client, error) {
	d := cfg.Delivery
	log = log.With("app", a.Name)
	onFetch := tokens.WithOnFetch(func(err error) {
		result := "ok"
		if err != nil {
			result = "error"
			// The platform clients keep secrets and tokens out of errors.
			log.Warn("access token fetch failed", "err", err)
			if platform.Classify(err) == message.OutcomeCredentials {
				health.Refused(a.Name, err.Error())
			}
		} else {
			health.Works(a.Name) // its credentials were just accepted
		}
		m.TokenFetch.WithLabelValues(a.Name, result).Inc()
	})
	// Token discipline (docs/delivery.md): a rejected token fetched moments
	// ago is kept, and fetches are capped per window.
	floor := tokens.WithRefetchFloor(cfg.Tokens.RefetchFloor)
	limit := tokens.WithFetchLimit(cfg.Tokens.MaxFetches, cfg.Tokens.FetchWindow)
	onLimited := tokens.WithOnLimited(func(until time.Time) {
		log.Warn("access token fetch limit reached: the app is paused until a fetch is allowed again",
			"max_fetches", cfg.Tokens.MaxFetches, "fetch_window", cfg.Tokens.FetchWindow, "until", until)
		m.TokenFetchLimited.WithLabelValues(a.Name).Inc()
	})
	onStoreError := tokens.WithOnStoreError(func(err error) {
		log.Warn("access token storage", "err", err)
	})
	// The broker hands a failed fetch's error to every caller for a while
	// instead of fetching again. After a first failure that memory must end
	// before the dispatcher's first retry (backoff_base jittered down to
	// half): otherwise every retry of a message inside it is recorded as an
	// attempt that never reached the platform, and one token-endpoint
	// hiccup spends whole retry budgets. Failures in a row double it (to a
	// minute): a broken secret is not retried at the platform every
	// quarter second.
	failureMemory := tokens.WithFailureBackoff(min(tokens.DefaultFailureBackoff, d.BackoffBase/4))
	tokenOpts := platform.WithTokenOptions(onFetch, onStoreError, failureMemory, floor, limit, onLimited)
	switch a.Platform {
	case "wechat":
		return wechat.New(wechat.Config{AppID: a.AppID, Secret: a.Secret, BaseURL: a.BaseURL, HTTPClient: hc,
			LegacyToken: a.UseStableToken != nil && !*a.UseStableToken}, store, tokenOpts)
	case "alipay":
		// Alipay signs every call with the app's keys: no token to manage.
		return alipay.New(alipay.Config{AppID: a.AppID, PrivateKey: a.PrivateKey, AlipayPublicKey: a.AlipayPublicKey,
			BaseURL: a.BaseURL, HTTPClient: hc, DefaultPage: a.DefaultPage})
	case "douyin":
		return douyin.New(douyin.Config{AppID: a.AppID, Secret: a.Secret, BaseURL: a.BaseURL, HTTPClient: hc,
			API: a.DouyinAPI}, store, tokenOpts)
	case "kuaishou":
		return kuaishou.New(kuaishou.Config{AppID: a.AppID, Secret: a.Secret, BaseURL: a.BaseURL, HTTPClient: hc,
			DefaultPage: a.DefaultPage}, store, tokenOpts)
	case "baidu":
		return baidu.New(baidu.Config{AppID: a.AppID, Secret: a.Secret, BaseURL: a.BaseURL, HTTPClient: hc,
			SubscribeIDs: a.BaiduSubscribeIDs, SubscribeID: a.BaiduSubscribeID}, store, tokenOpts)
	}
	return nil, fmt.Errorf("platform %q: no client yet", a.Platform)
}
