package sender

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/minipush/minipush/sender/internal/config"
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
func newClient(a config.App, d config.Delivery, store tokens.Store, hc *http.Client, m *metrics.Metrics, log *slog.Logger) (platform.Client, error) {
	log = log.With("app", a.Name)
	onFetch := tokens.WithOnFetch(func(err error) {
		result := "ok"
		if err != nil {
			result = "error"
			// The platform clients keep secrets and tokens out of errors.
			log.Warn("access token fetch failed", "err", err)
		}
		m.TokenFetch.WithLabelValues(a.Name, result).Inc()
	})
	onStoreError := tokens.WithOnStoreError(func(err error) {
		log.Warn("access token storage", "err", err)
	})
	// The broker hands a failed fetch's error to every caller for a while
	// instead of fetching again. That memory must end before the
	// dispatcher's first retry (backoff_base jittered down to half):
	// otherwise every retry of a message inside it is recorded as an
	// attempt that never reached the platform, and one token-endpoint
	// hiccup spends whole retry budgets.
	failureMemory := tokens.WithFailureBackoff(min(tokens.DefaultFailureBackoff, d.BackoffBase/4))
	tokenOpts := platform.WithTokenOptions(onFetch, onStoreError, failureMemory)
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
