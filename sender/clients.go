package sender

import (
	"fmt"
	"net/http"

	"github.com/minipush/minipush/sender/internal/config"
	"github.com/minipush/minipush/sender/internal/metrics"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/wechat"
	"github.com/minipush/minipush/sender/internal/tokens"
)

// newClient builds the platform client of one configured app.
func newClient(a config.App, store tokens.Store, hc *http.Client, m *metrics.Metrics) (platform.Client, error) {
	onFetch := tokens.WithOnFetch(func(err error) {
		result := "ok"
		if err != nil {
			result = "error"
		}
		m.TokenFetch.WithLabelValues(a.Name, result).Inc()
	})
	switch a.Platform {
	case "wechat":
		return wechat.New(wechat.Config{AppID: a.AppID, Secret: a.Secret, BaseURL: a.BaseURL, HTTPClient: hc,
			LegacyToken: a.UseStableToken != nil && !*a.UseStableToken}, store, wechat.WithTokenOptions(onFetch))
	}
	return nil, fmt.Errorf("platform %q: no client yet", a.Platform)
}
