package chaos_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/chaos"
	"github.com/minipush/minipush/loadtest"
	"github.com/minipush/minipush/loadtest/scenario"
	"github.com/minipush/minipush/loadtest/threshold"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/sender"
)

// storm is what the probe injects on one platform: its send endpoint's
// fault name and the code its send answers for an access token it no
// longer takes (0: the platform has no access token — Alipay signs every
// request with the app's key).
type storm struct {
	sendEndpoint string
	tokenCode    int
}

var storms = map[string]storm{
	mockapi.PlatformWeChat:   {"subscribe_send", 40001},    // invalid credential / access_token
	mockapi.PlatformAlipay:   {"gateway", 0},               // signed requests: no token to reject
	mockapi.PlatformDouyin:   {"notify_v2", 28001003},      // access_token无效
	mockapi.PlatformKuaishou: {"template_send", 100200101}, // 验证出错: the access_token
	mockapi.PlatformBaidu:    {"subscribe_send", 110},      // gateway: access token invalid
}

// Probe 5: faults and token storms on every platform. For each of the
// five platforms a load run (loadtest, self-contained: the mock and the
// sender in-process) drives the sender while the mock fails 30 % of every
// call of the app (HTTP 503, token fetches included) and answers 20 % of
// the sends with the platform's "access token invalid" code — a storm of
// rejected tokens.
//
// Pass, per platform: every accepted message delivered exactly once
// (reconciled against the mock's inbox and the sender's statuses: 0 lost,
// 0 duplicated, 0 pending, 0 unexpected), every API answer as expected,
// and the sender's token fetches within its circuit breaker (at most
// tokens.max_fetches, 60 per window) however many tokens were rejected.
func TestPlatformsUnderFaults(t *testing.T) {
	mode := chaos.Gate(t)
	rate, dur := chaos.Pick(mode, 30.0, 100.0), chaos.Pick(mode, 8*time.Second, 30*time.Second)
	for _, p := range loadtest.Platforms {
		t.Run(p, func(t *testing.T) {
			fig := chaos.NewFigures("platform_faults_"+p, mode)
			defer fig.Report(t)
			st := storms[p]
			seed := int64(len(p))
			faults := []mockapi.Fault{{Endpoint: "*", HTTPStatus: 503, Probability: 0.3, Seed: seed}}
			if st.tokenCode != 0 {
				code := st.tokenCode
				faults = append(faults, mockapi.Fault{Endpoint: st.sendEndpoint, ErrCode: &code, Probability: 0.2, Seed: seed + 1})
			}
			users := 1000
			if p == mockapi.PlatformBaidu {
				// One send per user and template on Baidu (selfhost.BaiduSubscribeID).
				users = int(rate*dur.Seconds())*loadtest.DefaultFanout + 1000
			}
			var thresholds []threshold.Threshold
			for _, expr := range []string{"errors==0", "lost==0", "duplicated==0", "pending==0",
				"unexpected==0", "status_mismatch==0", "token_fetches<=60"} {
				th, err := threshold.Parse(expr)
				if err != nil {
					t.Fatal(err)
				}
				thresholds = append(thresholds, th)
			}
			rep, err := loadtest.Run(context.Background(), loadtest.WithSelf(), loadtest.WithPlatform(p),
				loadtest.WithRate(rate, dur), loadtest.WithMix(scenario.MustParseMix("valid=90,content=5,broadcast=5")),
				loadtest.WithUsers(users, 10), loadtest.WithSeed(uint64(seed)), loadtest.WithFaults(faults...),
				loadtest.WithTimeouts(10*time.Second, 4*time.Minute), loadtest.WithThresholds(thresholds...),
				loadtest.WithSenderConfig(func(c *sender.Config) {
					// 30 % + 20 % failures a try: 20 tries leave about one
					// message in a million undelivered.
					c.Delivery.MaxAttempts = 20
				}))
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := rep.WriteText(&b); err == nil {
				t.Log("\n" + b.String())
			}
			fig.Set("requests", rep.Requests)
			fig.Set("accepted", rep.Accepted)
			fig.Set("delivered", rep.Delivered)
			fig.Set("lost", rep.Lost)
			fig.Set("duplicated", rep.Duplicated)
			fig.Set("errors", rep.Errors)
			fig.Set("p99_ms", rep.Latency.P99)
			if rep.TokenFetches != nil {
				fig.Set("token_fetches", *rep.TokenFetches)
			}
			fig.Set("token_storm", st.tokenCode != 0)
			fig.Set("retries", rep.SenderRetries)
			// The faults fired: sends were retried, and on a platform
			// with tokens, rejected tokens among them.
			if rep.SenderRetries["retryable"] == 0 {
				t.Errorf("%s: no retried send: the injected faults did not fire", p)
			}
			if st.tokenCode != 0 && rep.SenderRetries["token"] == 0 {
				t.Errorf("%s: no send retried for a rejected token: the token storm did not fire", p)
			}
			fig.Set("drain_s", rep.DrainS)
			for _, th := range rep.Breached() {
				t.Errorf("%s: %s: %s", p, th.Threshold, th.Detail)
			}
			if rep.Delivered == 0 {
				t.Errorf("%s: nothing delivered", p)
			}
		})
	}
}
