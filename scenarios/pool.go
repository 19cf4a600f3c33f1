package scenarios

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// A sender reads its apps from its configuration at start, so a world's
// sender is configured with a pool of apps up front — every platform, in
// every profile a scenario may ask for — and each scenario leases the apps
// it needs. An app is leased once per world: it is registered on the mock
// only when leased, so its mock state (users, grants, faults, quotas,
// inbox, journal) and its sender state (tokens, rate shaper, messages) are
// the scenario's alone. That is what lets scenarios run concurrently
// against one mock and one sender.

// profile is how a pooled app is configured in the sender.
type profile string

const (
	profilePlain   profile = "plain"
	profileChecked profile = "checked" // content_check: true
	profileShaped  profile = "shaped"  // at most shapedRate sends a second
	// Alipay only: the sender signs with a key the platform does not know,
	// or verifies answers with a key the platform does not sign with.
	profileWrongAppKey    profile = "wrong-app-key"
	profileWrongAlipayKey profile = "wrong-alipay-key"
	// The platform pushes the app's events to the sender, which enforces
	// its consent ledger (WeChat and Douyin): plain pushes, or (WeChat)
	// encrypted ones, with an EncodingAESKey.
	profileConsent    profile = "consent"
	profileConsentAES profile = "consent-aes"
	// WeChat only: the app's campaign rules (campaignRules,
	// docs/campaigns.md), in isolated worlds (their scenarios move the
	// sender's clock).
	profileCampaign profile = "campaign"
)

// campaignRules are the campaign apps' rules: the scenarios of
// features/campaigns.feature read them.
var campaignRules = map[string]any{
	"time_zone":      "Asia/Shanghai",
	"dedup":          map[string]any{"window": "1h"},
	"quiet_hours":    map[string]any{"start": "22:00", "end": "08:00", "ramp": "10m"},
	"frequency_caps": []map[string]any{{"period": "day", "limit": 3}},
	"on_exceed":      "reject",
}

// The push settings of every consent app, in the sender and on the mock.
const (
	pushToken  = "BddPushToken0001"
	pushAESKey = "BddEncodingAESKey0123456789abcdefghijklmnop"
)

// shapedRate is the rate of profileShaped apps: burst 1, so at most
// shapedRate+1 sends in any one second.
const shapedRate = 4

// poolSizes is how many apps of each profile a world holds per platform.
type poolSizes map[profile]int

// sharedPool serves every scenario of a run that does not need a world of
// its own; sizes leave room over what the features use.
var sharedPool = poolSizes{profilePlain: 48, profileChecked: 4, profileShaped: 3, profileWrongAppKey: 2,
	profileWrongAlipayKey: 2, profileConsent: 8, profileConsentAES: 12}

// isolatedPool serves one scenario.
var isolatedPool = poolSizes{profilePlain: 2, profileShaped: 1, profileCampaign: 1}

// slot is one app of the pool.
type slot struct {
	name     string // the sender's name for it
	platform string
	profile  profile
	appID    string
	secret   string
	leased   bool
}

// alipayKeys are the RSA keys of a run's Alipay apps: the app's (the mock
// verifies requests with its public half), the platform's (the mock signs
// answers with it) and a stranger's (for the wrong-key profiles).
type alipayKeys struct {
	app, platform, stranger *rsa.PrivateKey
}

func newAlipayKeys() (*alipayKeys, error) {
	var ks [3]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		ks[i] = k
	}
	return &alipayKeys{app: ks[0], platform: ks[1], stranger: ks[2]}, nil
}

func privatePEM(k *rsa.PrivateKey) string {
	b, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}))
}

func publicPEM(k *rsa.PublicKey) string {
	b, _ := x509.MarshalPKIXPublicKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: b}))
}

type poolKey struct {
	platform string
	profile  profile
}

type pool struct {
	mu    sync.Mutex
	slots map[poolKey][]*slot
	all   []*slot
	keys  *alipayKeys
}

// newPool makes the apps of world number worldNo.
func newPool(worldNo int, sizes poolSizes, keys *alipayKeys) *pool {
	p := &pool{slots: map[poolKey][]*slot{}, keys: keys}
	n := 0
	for _, pl := range platformNames {
		for _, prof := range []profile{profilePlain, profileChecked, profileShaped, profileWrongAppKey, profileWrongAlipayKey,
			profileConsent, profileConsentAES, profileCampaign} {
			if (prof == profileWrongAppKey || prof == profileWrongAlipayKey) && pl != "alipay" {
				continue
			}
			if (prof == profileConsent && pl != "wechat" && pl != "douyin") || ((prof == profileConsentAES || prof == profileCampaign) && pl != "wechat") {
				continue
			}
			for i := range sizes[prof] {
				n++
				s := &slot{name: fmt.Sprintf("%s-%s-%02d", pl, prof, i+1), platform: pl, profile: prof,
					appID: platforms[pl].appID(worldNo, n), secret: fmt.Sprintf("bdd-secret-%d-%d", worldNo, n)}
				k := poolKey{pl, prof}
				p.slots[k] = append(p.slots[k], s)
				p.all = append(p.all, s)
			}
		}
	}
	return p
}

// lease hands out an unused app.
func (p *pool) lease(platform string, prof profile) (*slot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.slots[poolKey{platform, prof}] {
		if !s.leased {
			s.leased = true
			return s, nil
		}
	}
	return nil, fmt.Errorf("no %s app left in the %s pool of this world: raise its size in scenarios/pool.go", platform, prof)
}

// apiKey is the sender API key of every world.
const apiKey = "bdd-scenarios-api-key-0001"

// localRule is the sender's own content rule the features name.
const localRule = "no-fake-invoice"

// delivery holds the dispatcher settings of a world.
type delivery struct {
	MaxAttempts int           `yaml:"max_attempts"`
	BackoffBase time.Duration `yaml:"backoff_base"`
	BackoffMax  time.Duration `yaml:"backoff_max"`
}

// quickDelivery lets retries run out within a second (dead letters).
var quickDelivery = delivery{MaxAttempts: 4, BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second}

// patientDelivery keeps retrying long enough for a restart in between.
var patientDelivery = delivery{MaxAttempts: 40, BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second}

// The configuration file, as the sender reads it (sender/internal/config).
type (
	senderConfig struct {
		Listen       string            `yaml:"listen"`
		Storage      map[string]string `yaml:"storage"`
		APIKeys      []map[string]any  `yaml:"api_keys"`
		Apps         []appConfig       `yaml:"apps"`
		ContentRules []map[string]any  `yaml:"content_rules"`
		Delivery     map[string]any    `yaml:"delivery"`
		Tokens       map[string]any    `yaml:"tokens"`
		Webhooks     map[string]any    `yaml:"webhooks,omitempty"`
		Log          map[string]string `yaml:"log"`
	}
	appConfig struct {
		Name            string        `yaml:"name"`
		Platform        string        `yaml:"platform"`
		AppID           string        `yaml:"app_id"`
		Secret          string        `yaml:"secret,omitempty"`
		PrivateKey      string        `yaml:"private_key,omitempty"`
		AlipayPublicKey string        `yaml:"alipay_public_key,omitempty"`
		BaseURL         string        `yaml:"base_url"`
		DefaultPage     string        `yaml:"default_page,omitempty"`
		ContentCheck    bool          `yaml:"content_check,omitempty"`
		Rate            *rateConfig   `yaml:"rate,omitempty"`
		Events          *eventsConfig `yaml:"events,omitempty"`
		Consent         string        `yaml:"consent,omitempty"`
		Campaigns       any           `yaml:"campaigns,omitempty"`
	}
	eventsConfig struct {
		Token          string `yaml:"token,omitempty"`
		EncodingAESKey string `yaml:"encoding_aes_key,omitempty"`
	}
	rateConfig struct {
		PerSecond float64 `yaml:"per_second"`
		Burst     int     `yaml:"burst"`
	}
)

// config renders the sender's YAML configuration for the pool, the apps
// reaching the mock at mockURL. listen and the database path are the
// in-process defaults; the container overrides both from its environment.
//
// hookURL, when not empty, gives the world a second API key whose result
// webhook is that URL (steps_webhooks.go).
func (p *pool) config(mockURL, dbPath string, d delivery, hookURL string) ([]byte, error) {
	c := senderConfig{
		Listen:  "127.0.0.1:0",
		Storage: map[string]string{"driver": "sqlite", "path": dbPath},
		APIKeys: []map[string]any{{"name": "bdd", "key": apiKey},
			{"name": "bdd-operator", "key": adminKey, "scopes": []string{"send", "read", "admin"}},
			{"name": "bdd-dashboard", "key": readKey, "scopes": []string{"read"}}},
		ContentRules: []map[string]any{
			{"name": localRule, "words": []string{"fake-invoice"}},
		},
		Delivery: map[string]any{
			"workers": 16, "batch": 64, "lease": "5s", "max_attempts": d.MaxAttempts,
			"backoff_base": d.BackoffBase.String(), "backoff_max": d.BackoffMax.String(),
			"throttle_backoff": "500ms", "poll_interval": "20ms", "send_timeout": "3s", "shutdown_timeout": "10s",
		},
		// The scenarios move the platform's clock hours ahead in seconds:
		// a token expires moments after it was fetched, which the refetch
		// floor (a token rejected within 30 s of its fetch is kept) would
		// hold on to. The floor is the sender's own tests' business
		// (sender/tokens_test.go).
		Tokens: map[string]any{"refetch_floor": "0s"},
		Log:    map[string]string{"format": "text", "level": "info"},
	}
	if hookURL != "" {
		c.APIKeys = append(c.APIKeys, map[string]any{"name": "bdd-hooks", "key": hookAPIKey,
			"webhook": map[string]string{"url": hookURL, "secret": hookSecret}})
		c.Webhooks = map[string]any{"backoff_base": "200ms", "backoff_max": "1s", "poll_interval": "100ms", "timeout": "5s"}
	}
	for _, s := range p.all {
		a := appConfig{Name: s.name, Platform: s.platform, AppID: s.appID, BaseURL: mockURL,
			DefaultPage: "pages/index/index"}
		switch s.platform {
		case "alipay":
			a.PrivateKey, a.AlipayPublicKey = privatePEM(p.keys.app), publicPEM(&p.keys.platform.PublicKey)
			switch s.profile {
			case profileWrongAppKey:
				a.PrivateKey = privatePEM(p.keys.stranger)
			case profileWrongAlipayKey:
				a.AlipayPublicKey = publicPEM(&p.keys.stranger.PublicKey)
			}
		default:
			a.Secret = s.secret
		}
		switch s.profile {
		case profileChecked:
			a.ContentCheck = true
		case profileShaped:
			a.Rate = &rateConfig{PerSecond: shapedRate, Burst: 1}
		case profileConsent, profileConsentAES:
			a.Consent, a.Events = "enforce", &eventsConfig{} // Douyin: the app secret signs
			if s.platform == "wechat" {
				a.Events.Token = pushToken
			}
			if s.profile == profileConsentAES {
				a.Events.EncodingAESKey = pushAESKey
			}
		case profileCampaign:
			a.Campaigns = campaignRules
		}
		c.Apps = append(c.Apps, a)
	}
	return yaml.Marshal(&c)
}
