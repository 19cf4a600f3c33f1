// Package config is the sender's configuration: one value loaded from a
// YAML file and MINIPUSH_* environment variables over defaults, validated
// at start with errors that name the setting, and printable only through
// Redacted.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/minipush/minipush/internal/httpserver"
)

// Platforms the sender delivers to.
var Platforms = []string{"wechat", "alipay", "douyin", "kuaishou", "baidu"}

// Config is the whole configuration.
type Config struct {
	Listen  string   `yaml:"listen"`
	TLS     TLS      `yaml:"tls"`
	Server  Server   `yaml:"server"`
	Storage Storage  `yaml:"storage"`
	APIKeys []APIKey `yaml:"api_keys"`
	// APIRate is every API key's request rate unless the key sets its own.
	APIRate      KeyRate       `yaml:"api_rate"`
	Metrics      Metrics       `yaml:"metrics"`
	Idempotency  Idempotency   `yaml:"idempotency"`
	Retention    Retention     `yaml:"retention"`
	Tokens       Tokens        `yaml:"tokens"`
	Apps         []App         `yaml:"apps"`
	ContentRules []ContentRule `yaml:"content_rules"`
	Delivery     Delivery      `yaml:"delivery"`
	Webhooks     Webhooks      `yaml:"webhooks"`
	Log          Log           `yaml:"log"`

	// source is the file the configuration was loaded from; inlineSecrets
	// says whether that file holds secrets itself; secretFiles are the
	// files secrets were read from (Exposed checks their modes).
	source        string
	inlineSecrets bool
	secretFiles   []privateFile
}

// Server bounds what a client can hold of the HTTP server (README
// "Limits"): timeouts, the header size and a cap on open connections
// that closes the oldest idle ones when full.
type Server struct {
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes    int           `yaml:"max_header_bytes"`
	MaxConns          int           `yaml:"max_conns"`
}

// Limits is the server section as the HTTP server takes it.
func (s Server) Limits() httpserver.Limits {
	return httpserver.Limits{ReadHeaderTimeout: s.ReadHeaderTimeout, ReadTimeout: s.ReadTimeout,
		WriteTimeout: s.WriteTimeout, IdleTimeout: s.IdleTimeout, MaxHeaderBytes: s.MaxHeaderBytes, MaxConns: s.MaxConns}
}

// serverSettings names each httpserver.Limits field as a setting.
var serverSettings = map[string]string{"ReadHeaderTimeout": "read_header_timeout", "ReadTimeout": "read_timeout",
	"WriteTimeout": "write_timeout", "IdleTimeout": "idle_timeout", "MaxHeaderBytes": "max_header_bytes", "MaxConns": "max_conns"}

// Storage selects the backend: sqlite (embedded, the default) or redis
// (shared by several sender instances: docs/redis.md).
type Storage struct {
	Driver string `yaml:"driver"` // sqlite or redis
	Path   string `yaml:"path"`
	// Sync is "normal" (default: survives a process crash) or "full"
	// (also survives power loss, slower).
	Sync string `yaml:"sync"`
	// Initialize lets the sender start with an empty database where the
	// marker beside the path shows one existed (it refuses otherwise:
	// docs/operations.md#a-missing-database). Set it for one start, after
	// deciding the old database is lost.
	Initialize bool `yaml:"initialize"`

	// Redis (driver redis). URL is redis://[:password@]host:port[/db] or
	// rediss:// (TLS); a password in it is a secret (URLFile,
	// MINIPUSH_STORAGE_URL[_FILE]), as is Password, which replaces it.
	URL          string `yaml:"url,omitempty"`
	URLFile      string `yaml:"url_file,omitempty"`
	Password     string `yaml:"password,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	// Prefix starts every key (one per deployment sharing a Redis).
	Prefix string `yaml:"prefix,omitempty"`
	// Cluster: the URL names a Redis Cluster (further nodes as ?addr=).
	Cluster bool `yaml:"cluster,omitempty"`
	// RequireAOFAlways refuses to start unless Redis runs appendonly yes
	// with appendfsync always (every write on disk before Redis answers).
	RequireAOFAlways bool `yaml:"require_aof_always,omitempty"`
	// WaitReplicas: every write the API acknowledges waits (WAIT) until
	// this many replicas have it, at most WaitTimeout; else 503.
	WaitReplicas int           `yaml:"wait_replicas,omitempty"`
	WaitTimeout  time.Duration `yaml:"wait_timeout,omitempty"`
}

// Storage drivers.
const (
	DriverSQLite = "sqlite"
	DriverRedis  = "redis"
)

// APIKey lets a caller in with Authorization: Bearer <key>.
type APIKey struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
	// KeyFile holds the key instead of Key.
	KeyFile string `yaml:"key_file"`
	// Rate replaces api_rate for this key.
	Rate *KeyRate `yaml:"rate,omitempty"`
	// Scopes are what the key may do: send (messages, broadcasts, groups,
	// a message's retry and cancel), read (every GET) and admin (operator
	// control: resuming a paused app, bulk cancel and redrive, redelivering
	// a failed webhook). Empty:
	// DefaultScopes.
	Scopes []string `yaml:"scopes,omitempty"`
	// Webhook, when set, hears of the outcome of every message sent with
	// this key (docs/webhooks.md); it stands before its app's.
	Webhook *Webhook `yaml:"webhook,omitempty"`
}

// Webhook is a result webhook: the URL the sender POSTs a message's
// outcome to, signed with Secret (docs/webhooks.md).
type Webhook struct {
	URL string `yaml:"url"`
	// Secret signs every POST (HMAC-SHA256); at least 16 characters.
	// SecretFile holds it instead; MINIPUSH_APP_<NAME>_WEBHOOK_SECRET[_FILE]
	// or MINIPUSH_API_KEY_<NAME>_WEBHOOK_SECRET[_FILE] replace both.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
}

// Webhooks tunes the delivery of result webhooks (docs/webhooks.md).
type Webhooks struct {
	// Timeout bounds one POST, from connecting to the answer's end.
	Timeout time.Duration `yaml:"timeout"`
	// BackoffBase is the wait after the first failed attempt; it doubles
	// after each (with jitter) up to BackoffMax.
	BackoffBase time.Duration `yaml:"backoff_base"`
	BackoffMax  time.Duration `yaml:"backoff_max"`
	// RetryWindow is how long a delivery is retried, from its event (or
	// an operator's redeliver); then it is failed.
	RetryWindow time.Duration `yaml:"retry_window"`
	// Workers is how many POSTs may be in flight at once.
	Workers int `yaml:"workers"`
	// PollInterval is how often the outbox is read when idle.
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Webhook defaults (docs/webhooks.md#retries).
const (
	DefaultWebhookTimeout      = 10 * time.Second
	DefaultWebhookBackoffBase  = 5 * time.Second
	DefaultWebhookBackoffMax   = time.Hour
	DefaultWebhookRetryWindow  = 24 * time.Hour
	DefaultWebhookWorkers      = 8
	DefaultWebhookPollInterval = 500 * time.Millisecond
)

// API key scopes.
const (
	ScopeSend  = "send"
	ScopeRead  = "read"
	ScopeAdmin = "admin"
)

// Scopes are every scope a key may hold.
var Scopes = []string{ScopeSend, ScopeRead, ScopeAdmin}

// DefaultScopes are a key's scopes when it names none: what every key
// could do before scopes existed, so existing configurations keep
// working; admin is given explicitly.
var DefaultScopes = []string{ScopeSend, ScopeRead}

// ScopesOf is the key's scopes, DefaultScopes when it names none.
func (k APIKey) ScopesOf() []string {
	if len(k.Scopes) == 0 {
		return DefaultScopes
	}
	return k.Scopes
}

// Allows reports whether the key holds scope.
func (k APIKey) Allows(scope string) bool { return slices.Contains(k.ScopesOf(), scope) }

// KeyRate bounds one API key's requests: PerSecond sustained, Burst at
// once; over it the API answers 429 with Retry-After. PerSecond 0 means
// no limit.
type KeyRate struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

// RateOf is the rate that applies to key k.
func (c *Config) RateOf(k APIKey) KeyRate {
	if k.Rate != nil {
		return *k.Rate
	}
	return c.APIRate
}

// Metrics configures GET /metrics.
type Metrics struct {
	// RequireKey makes /metrics need an API key like /v1.
	RequireKey bool `yaml:"require_key"`
}

// Idempotency keys (of messages, broadcasts and group writes) are kept
// for Window: a retry within it gets the first answer; after it the key is
// free again (docs/delivery.md).
type Idempotency struct {
	Window time.Duration `yaml:"window"`
}

// Retention is how long finished messages are kept, counted from their
// last change; older ones are deleted in the background, with their
// attempts and receipts (docs/performance.md#retention). 0 keeps them
// forever. Messages still queued, sending or retrying are never deleted.
type Retention struct {
	Delivered time.Duration `yaml:"delivered"`
	Failed    time.Duration `yaml:"failed"`
	Rejected  time.Duration `yaml:"rejected"`
	Cancelled time.Duration `yaml:"cancelled"`
}

// Default retention: a week of delivered messages (their status and
// receipt are read in the days after the send), a month of dead letters
// (time to find, fix and redrive them).
const (
	DefaultRetainDelivered = 7 * 24 * time.Hour
	DefaultRetainFailed    = 30 * 24 * time.Hour
)

// DefaultIdempotencyWindow is the IETF draft's example and what clients
// commonly assume.
const DefaultIdempotencyWindow = 24 * time.Hour

// Tokens bounds how often an app's access token is fetched from the
// platform (docs/delivery.md#token-discipline): WeChat's /cgi-bin/token
// allows 2,000 calls a day, and a platform rejecting tokens at random must
// not use them up.
type Tokens struct {
	// RefetchFloor: a token rejected less than this after the last fetch
	// is kept rather than fetched again.
	RefetchFloor time.Duration `yaml:"refetch_floor"`
	// MaxFetches per FetchWindow, a circuit breaker: beyond it the app is
	// throttled until the window allows a fetch again.
	MaxFetches  int           `yaml:"max_fetches"`
	FetchWindow time.Duration `yaml:"fetch_window"`
}

// Token defaults: at most 60 fetches an hour (1,440 a day, under WeChat's
// 2,000), and none within 30 s of the last.
const (
	DefaultRefetchFloor = 30 * time.Second
	DefaultMaxFetches   = 60
	DefaultFetchWindow  = time.Hour
)

// App is one mini-program the sender delivers for.
type App struct {
	Name     string `yaml:"name"`
	Platform string `yaml:"platform"`
	AppID    string `yaml:"app_id"`
	// Secret is the app secret (WeChat AppSecret, Douyin/Kuaishou/Baidu
	// secret); Alipay uses keys instead. SecretFile holds it instead.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// Alipay: the app private key and the platform public key, inline PEM or
	// from files.
	PrivateKey          string `yaml:"private_key"`
	PrivateKeyFile      string `yaml:"private_key_file"`
	AlipayPublicKey     string `yaml:"alipay_public_key"`
	AlipayPublicKeyFile string `yaml:"alipay_public_key_file"`
	// BaseURL replaces the platform's real host (e.g. the mock's URL).
	BaseURL string `yaml:"base_url"`
	Rate    Rate   `yaml:"rate"`
	// ContentCheck calls the platform's content-security API before each
	// send and rejects risky content with the platform's label.
	ContentCheck bool `yaml:"content_check"`
	// UseStableToken (WeChat): /cgi-bin/stable_token instead of /cgi-bin/token.
	UseStableToken *bool `yaml:"use_stable_token"`
	// DefaultPage is the page used when a message has none (Alipay's send
	// requires one).
	DefaultPage string `yaml:"default_page"`
	// DouyinAPI is "v2" (default: client_token + notify_user) or "v1"
	// (legacy access_token + developer/v1/notify).
	DouyinAPI string `yaml:"douyin_api"`
	// BaiduSubscribeIDs maps a template id to the subscribe_id users
	// authorize it under; BaiduSubscribeID is the id for other templates
	// (default: the template id). A message may carry its own in
	// data.subscribe_id.
	BaiduSubscribeIDs map[string]string `yaml:"baidu_subscribe_ids"`
	BaiduSubscribeID  string            `yaml:"baidu_subscribe_id"`
	// Events, when set, receives the platform's pushes for this app at
	// /v1/platform-events/{name} (WeChat message push, Douyin webhooks;
	// docs/events.md).
	Events *Events `yaml:"events"`
	// Consent is how the app uses its consent ledger: observe (default:
	// keep it and count) or enforce (hold back messages to users the
	// ledger knows refused the template). Enforce needs Events.
	Consent string `yaml:"consent"`
	// LongTermTemplates (WeChat) lists the templates users subscribe to
	// for the long term: WeChat's popup event does not say, and an accept
	// of one is a standing grant, not one credit.
	LongTermTemplates []string `yaml:"long_term_templates"`
	// Campaigns are the app's campaign rules: dedup window, quiet hours,
	// frequency caps (docs/campaigns.md). Nil: none.
	Campaigns *Campaigns `yaml:"campaigns,omitempty"`
	// Templates declares the app's templates: template id → the keyword
	// keys a message of it carries ("thing1", "keyword1", Douyin's names).
	// The API refuses a message whose data misses one or adds another
	// (422) before accepting it. Needed on platforms without a template
	// list (Alipay, Kuaishou); elsewhere it pins a template over the
	// platform's list.
	Templates map[string][]string `yaml:"templates"`
	// TemplateList fetches the app's templates from the platform's list
	// (WeChat gettemplate, Douyin v2 query_app_tpl, Baidu templatelist).
	// Default: on where the platform has one.
	TemplateList *bool `yaml:"template_list"`
	// TemplateRefresh is how old the fetched list may grow before it is
	// fetched again (default DefaultTemplateRefresh).
	TemplateRefresh time.Duration `yaml:"template_refresh"`
	// Webhook, when set, hears of the outcome of the app's messages
	// (docs/webhooks.md) — unless the message's API key has its own.
	Webhook *Webhook `yaml:"webhook,omitempty"`
}

// Campaigns are an app's campaign rules (docs/campaigns.md).
type Campaigns struct {
	// TimeZone is the users' zone (IANA name) that quiet hours and the
	// caps' days and weeks are read in; default Asia/Shanghai.
	TimeZone string `yaml:"time_zone" json:"time_zone"`
	// Dedup refuses a second message of the same user, template and
	// dedup key within the window.
	Dedup *Dedup `yaml:"dedup,omitempty" json:"dedup,omitempty"`
	// QuietHours holds non-urgent messages that fall in the window to its
	// end, spread over Ramp.
	QuietHours *QuietHours `yaml:"quiet_hours,omitempty" json:"quiet_hours,omitempty"`
	// FrequencyCaps limit the messages one user gets per day or week.
	FrequencyCaps []FrequencyCap `yaml:"frequency_caps,omitempty" json:"frequency_caps,omitempty"`
	// OnExceed is what a message over a cap becomes: reject (default:
	// rejected, reason frequency_cap) or hold (sent in the next period
	// with room).
	OnExceed string `yaml:"on_exceed" json:"on_exceed"`
	// Categories maps a template id to its category, for caps of one
	// category.
	Categories map[string]string `yaml:"categories,omitempty" json:"categories,omitempty"`
}

// Dedup is an app's dedup window.
type Dedup struct {
	Window time.Duration `yaml:"window" json:"-"`
}

// QuietHours is a daily window in the app's time zone, "HH:MM" to
// "HH:MM" (End before Start: across midnight).
type QuietHours struct {
	Start string        `yaml:"start" json:"start"`
	End   string        `yaml:"end" json:"end"`
	Ramp  time.Duration `yaml:"ramp" json:"-"`
}

// FrequencyCap is at most Limit messages per user per Period (day or
// week, weeks start on Monday), of templates of Category when set.
type FrequencyCap struct {
	Period   string `yaml:"period" json:"period"`
	Limit    int    `yaml:"limit" json:"limit"`
	Category string `yaml:"category,omitempty" json:"category,omitempty"`
}

// Campaign settings' values.
const (
	DefaultCampaignTimeZone = "Asia/Shanghai"
	OnExceedReject          = "reject"
	OnExceedHold            = "hold"
	PeriodDay               = "day"
	PeriodWeek              = "week"
	// MaxDedupWindow bounds a dedup window (the app's or a message's).
	MaxDedupWindow = 90 * 24 * time.Hour
)

// ClockTime parses "HH:MM" into minutes after midnight.
func ClockTime(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("want HH:MM (24-hour), got %q", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// check validates c, naming the setting under f.
func (c *Campaigns) check(bad func(setting, format string, args ...any), f string) {
	f += ".campaigns"
	if c.TimeZone == "" {
		c.TimeZone = DefaultCampaignTimeZone
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "Local" {
		bad(f+".time_zone", "want an IANA time zone name such as Asia/Shanghai, got %q", c.TimeZone)
	}
	if c.Dedup != nil && (c.Dedup.Window < time.Second || c.Dedup.Window > MaxDedupWindow) {
		bad(f+".dedup.window", "must be between 1s and %s, got %s", MaxDedupWindow, c.Dedup.Window)
	}
	if q := c.QuietHours; q != nil {
		start, err1 := ClockTime(q.Start)
		if err1 != nil {
			bad(f+".quiet_hours.start", "%v", err1)
		}
		end, err2 := ClockTime(q.End)
		if err2 != nil {
			bad(f+".quiet_hours.end", "%v", err2)
		}
		if err1 == nil && err2 == nil && start == end {
			bad(f+".quiet_hours.end", "must differ from start (%s): a window of no time or of the whole day", q.Start)
		}
		if q.Ramp < 0 || q.Ramp > 6*time.Hour {
			bad(f+".quiet_hours.ramp", "must be between 0 and 6h, got %s", q.Ramp)
		}
	}
	switch c.OnExceed {
	case "":
		c.OnExceed = OnExceedReject
	case OnExceedReject, OnExceedHold:
	default:
		bad(f+".on_exceed", "want reject or hold, got %q", c.OnExceed)
	}
	seen := map[string]bool{}
	for i, fc := range c.FrequencyCaps {
		g := fmt.Sprintf("%s.frequency_caps[%d]", f, i)
		if fc.Period != PeriodDay && fc.Period != PeriodWeek {
			bad(g+".period", "want day or week, got %q", fc.Period)
		}
		if fc.Limit < 1 {
			bad(g+".limit", "must be at least 1, got %d", fc.Limit)
		}
		if fc.Category != "" && !slices.Contains(slices.Collect(maps.Values(c.Categories)), fc.Category) {
			bad(g+".category", "no template of campaigns.categories is in category %q", fc.Category)
		}
		if k := fc.Period + "/" + fc.Category; seen[k] {
			bad(g, "a second %s cap for category %q", fc.Period, fc.Category)
		} else {
			seen[k] = true
		}
	}
	for tpl, cat := range c.Categories {
		if tpl == "" || cat == "" || strings.ContainsAny(cat, "|\x00") {
			bad(f+".categories", "template %q → category %q: both required, no '|'", tpl, cat)
		}
	}
}

// DefaultTemplateRefresh is the template list's default maximum age.
const DefaultTemplateRefresh = 10 * time.Minute

// HasTemplateList reports whether the app's platform lists templates.
func (a App) HasTemplateList() bool {
	switch a.Platform {
	case "wechat", "baidu":
		return true
	case "douyin":
		return a.DouyinAPI != "v1"
	}
	return false
}

// ListsTemplates reports whether the sender fetches the app's template
// list: where the platform has one, unless template_list is false.
func (a App) ListsTemplates() bool {
	return a.HasTemplateList() && (a.TemplateList == nil || *a.TemplateList)
}

// Events are an app's push settings, as entered in the platform's console.
type Events struct {
	// Token is WeChat's push Token (signatures), or Douyin's webhook
	// signing secret (the app secret signs when it is empty). Secret.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// EncodingAESKey (WeChat, 43 characters) decrypts pushes in the
	// compatible and safe modes; when set, unencrypted pushes are
	// refused. Secret.
	EncodingAESKey     string `yaml:"encoding_aes_key"`
	EncodingAESKeyFile string `yaml:"encoding_aes_key_file"`
	// MaxAge (WeChat) refuses pushes whose signed timestamp is further
	// than this from the sender's clock: a captured push cannot be
	// replayed later. Default DefaultEventsMaxAge.
	MaxAge time.Duration `yaml:"max_age"`
}

// webhookURL is where MINIPUSH_…_WEBHOOK_URL goes: the webhook, made
// when the variable is set and the config has none.
func webhookURL(w **Webhook, v string) *string {
	if *w == nil {
		if v == "" {
			var sink string
			return &sink
		}
		*w = &Webhook{}
	}
	return &(*w).URL
}

// DefaultEventsMaxAge is how far a WeChat push's timestamp may be from
// now. WeChat documents no window; its re-sends come within about 20 s
// (5 s timeout, three retries), so five minutes leaves room for clock skew.
const DefaultEventsMaxAge = 5 * time.Minute

// Consent modes.
const (
	ConsentObserve = "observe"
	ConsentEnforce = "enforce"
)

// PushPlatforms are the platforms that push events to the sender.
var PushPlatforms = []string{"wechat", "douyin"}

// Rate shapes sends of one app. Delayed, never dropped.
type Rate struct {
	PerSecond float64 `yaml:"per_second"` // 0: the platform's default
	Burst     int     `yaml:"burst"`
	// PerUserInterval is the minimum time between two sends to one user
	// (Douyin allows one message per user per second).
	PerUserInterval time.Duration `yaml:"per_user_interval"`
}

// ContentRule rejects messages at the API: any of Words (case-insensitive
// substring) or Regex matching any data value.
type ContentRule struct {
	Name  string   `yaml:"name"`
	Words []string `yaml:"words"`
	Regex string   `yaml:"regex"`
}

// Delivery tunes the dispatcher.
type Delivery struct {
	Workers         int           `yaml:"workers"`
	Batch           int           `yaml:"batch"`
	Lease           time.Duration `yaml:"lease"`
	MaxAttempts     int           `yaml:"max_attempts"`
	BackoffBase     time.Duration `yaml:"backoff_base"`
	BackoffMax      time.Duration `yaml:"backoff_max"`
	ThrottleBackoff time.Duration `yaml:"throttle_backoff"`
	PollInterval    time.Duration `yaml:"poll_interval"`
	SendTimeout     time.Duration `yaml:"send_timeout"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Log configures logging.
type Log struct {
	Format string `yaml:"format"` // text or json
	Level  string `yaml:"level"`  // debug, info, warn, error
}

// The default request rate of an API key: well above what one honest
// client sends (the accept path reaches about 12,000 msg/s on 2 cores:
// docs/performance.md), low enough that one runaway client cannot take the
// whole service from the others.
const (
	DefaultAPIRate  = 2000
	DefaultAPIBurst = 4000
)

// Defaults returns the configuration every setting starts from.
func Defaults() Config {
	l := httpserver.Defaults()
	return Config{
		Listen: "127.0.0.1:9200",
		Server: Server{ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout, WriteTimeout: l.WriteTimeout,
			IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes, MaxConns: l.MaxConns},
		Storage:     Storage{Driver: "sqlite", Path: "./data/minipush.db", Sync: "normal"},
		APIRate:     KeyRate{PerSecond: DefaultAPIRate, Burst: DefaultAPIBurst},
		Idempotency: Idempotency{Window: DefaultIdempotencyWindow},
		Retention: Retention{Delivered: DefaultRetainDelivered, Failed: DefaultRetainFailed,
			Rejected: DefaultRetainFailed, Cancelled: DefaultRetainFailed},
		Tokens: Tokens{RefetchFloor: DefaultRefetchFloor, MaxFetches: DefaultMaxFetches, FetchWindow: DefaultFetchWindow},
		Delivery: Delivery{
			Workers: 64, Batch: 256, Lease: 30 * time.Second, MaxAttempts: 8,
			BackoffBase: time.Second, BackoffMax: 5 * time.Minute, ThrottleBackoff: 30 * time.Second,
			PollInterval: 50 * time.Millisecond, SendTimeout: 10 * time.Second, ShutdownTimeout: 30 * time.Second,
		},
		Webhooks: Webhooks{Timeout: DefaultWebhookTimeout, BackoffBase: DefaultWebhookBackoffBase,
			BackoffMax: DefaultWebhookBackoffMax, RetryWindow: DefaultWebhookRetryWindow, Workers: DefaultWebhookWorkers,
			PollInterval: DefaultWebhookPollInterval},
		Log: Log{Format: "text", Level: "info"},
	}
}

// Load reads path (if not empty) over the defaults, then the environment.
func Load(path string, getenv func(string) string) (*Config, error) {
	c := Defaults()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && err.Error() != "EOF" {
			// yaml quotes the start of a value it cannot place
			// ("cannot unmarshal !!str `s3cr3t-...`"): a secret or key
			// written at the wrong level would leak its first characters.
			return nil, fmt.Errorf("config %s: %s", path, scrubYAMLError(err.Error()))
		}
		c.source, c.inlineSecrets = path, c.hasInlineSecrets()
	}
	if err := applyEnv(&c, getenv); err != nil {
		return nil, err
	}
	if err := c.loadSecretFiles(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// applyEnv overrides settings from MINIPUSH_* variables:
//
//	MINIPUSH_LISTEN, MINIPUSH_STORAGE_DRIVER, MINIPUSH_STORAGE_PATH, MINIPUSH_STORAGE_SYNC,
//	MINIPUSH_STORAGE_INITIALIZE (true or false), MINIPUSH_STORAGE_URL and MINIPUSH_STORAGE_PASSWORD
//	(each also as <SETTING>_FILE), MINIPUSH_STORAGE_PREFIX, MINIPUSH_STORAGE_CLUSTER,
//	MINIPUSH_STORAGE_REQUIRE_AOF_ALWAYS, MINIPUSH_STORAGE_WAIT_REPLICAS, MINIPUSH_STORAGE_WAIT_TIMEOUT,
//	MINIPUSH_IDEMPOTENCY_WINDOW (e.g. 24h),
//	MINIPUSH_RETENTION_DELIVERED, _FAILED, _REJECTED, _CANCELLED (e.g. 168h; 0 keeps forever),
//	MINIPUSH_TOKENS_REFETCH_FLOOR, MINIPUSH_TOKENS_MAX_FETCHES, MINIPUSH_TOKENS_FETCH_WINDOW,
//	MINIPUSH_API_KEYS ("name:key,name2:key2"), MINIPUSH_LOG_FORMAT, MINIPUSH_LOG_LEVEL,
//	MINIPUSH_DELIVERY_<SETTING> (e.g. MINIPUSH_DELIVERY_WORKERS, MINIPUSH_DELIVERY_LEASE=30s),
//	MINIPUSH_SERVER_<SETTING> (e.g. MINIPUSH_SERVER_MAX_CONNS, MINIPUSH_SERVER_IDLE_TIMEOUT=30s),
//	MINIPUSH_API_RATE_PER_SECOND, MINIPUSH_API_RATE_BURST, MINIPUSH_METRICS_REQUIRE_KEY,
//	MINIPUSH_APP_<NAME>_<SETTING> for a configured app (NAME upper-cased, - as _):
//	SECRET, PRIVATE_KEY, ALIPAY_PUBLIC_KEY (each also as <SETTING>_FILE), BASE_URL, APP_ID,
//	CONSENT, EVENTS_TOKEN, EVENTS_ENCODING_AES_KEY (each also as <SETTING>_FILE; an EVENTS_*
//	variable turns the app's events on),
//	MINIPUSH_API_KEY_<NAME> or MINIPUSH_API_KEY_<NAME>_FILE for a configured API key,
//	MINIPUSH_API_KEY_<NAME>_SCOPES ("send,read,admin") for its scopes,
//	MINIPUSH_API_KEYS_FILE (a file of name:key lines, replacing api_keys),
//	MINIPUSH_TLS_CERT_FILE, MINIPUSH_TLS_KEY_FILE.
func applyEnv(c *Config, getenv func(string) string) error {
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	str("MINIPUSH_LISTEN", &c.Listen)
	str("MINIPUSH_TLS_CERT_FILE", &c.TLS.CertFile)
	str("MINIPUSH_TLS_KEY_FILE", &c.TLS.KeyFile)
	str("MINIPUSH_STORAGE_DRIVER", &c.Storage.Driver)
	str("MINIPUSH_STORAGE_PATH", &c.Storage.Path)
	str("MINIPUSH_STORAGE_SYNC", &c.Storage.Sync)
	str("MINIPUSH_STORAGE_PREFIX", &c.Storage.Prefix)
	applySecretEnv(getenv, "MINIPUSH_", c.Storage.secrets())
	if v := getenv("MINIPUSH_STORAGE_WAIT_REPLICAS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("MINIPUSH_STORAGE_WAIT_REPLICAS=%q: not an integer", v)
		}
		c.Storage.WaitReplicas = n
	}
	if v := getenv("MINIPUSH_STORAGE_WAIT_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("MINIPUSH_STORAGE_WAIT_TIMEOUT=%q: not a duration", v)
		}
		c.Storage.WaitTimeout = d
	}
	for name, dst := range map[string]*bool{"MINIPUSH_STORAGE_CLUSTER": &c.Storage.Cluster,
		"MINIPUSH_STORAGE_REQUIRE_AOF_ALWAYS": &c.Storage.RequireAOFAlways} {
		if v := getenv(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s=%q: want true or false", name, v)
			}
			*dst = b
		}
	}
	str("MINIPUSH_LOG_FORMAT", &c.Log.Format)
	for name, dst := range map[string]*time.Duration{"MINIPUSH_TOKENS_REFETCH_FLOOR": &c.Tokens.RefetchFloor,
		"MINIPUSH_TOKENS_FETCH_WINDOW": &c.Tokens.FetchWindow} {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s=%q: not a duration", name, v)
			}
			*dst = d
		}
	}
	if v := getenv("MINIPUSH_TOKENS_MAX_FETCHES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("MINIPUSH_TOKENS_MAX_FETCHES=%q: not an integer", v)
		}
		c.Tokens.MaxFetches = n
	}
	for _, r := range []struct {
		env string
		d   *time.Duration
	}{{"MINIPUSH_RETENTION_DELIVERED", &c.Retention.Delivered}, {"MINIPUSH_RETENTION_FAILED", &c.Retention.Failed},
		{"MINIPUSH_RETENTION_REJECTED", &c.Retention.Rejected}, {"MINIPUSH_RETENTION_CANCELLED", &c.Retention.Cancelled}} {
		if v := getenv(r.env); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s=%q: not a duration", r.env, v)
			}
			*r.d = d
		}
	}
	if v := getenv("MINIPUSH_IDEMPOTENCY_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("MINIPUSH_IDEMPOTENCY_WINDOW=%q: not a duration", v)
		}
		c.Idempotency.Window = d
	}
	if v := getenv("MINIPUSH_STORAGE_INITIALIZE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("MINIPUSH_STORAGE_INITIALIZE=%q: want true or false", v)
		}
		c.Storage.Initialize = b
	}
	if v := getenv("MINIPUSH_METRICS_REQUIRE_KEY"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("MINIPUSH_METRICS_REQUIRE_KEY=%q: want true or false", v)
		}
		c.Metrics.RequireKey = b
	}
	if v := getenv("MINIPUSH_API_RATE_PER_SECOND"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("MINIPUSH_API_RATE_PER_SECOND=%q: not a number", v)
		}
		c.APIRate.PerSecond = f
	}
	str("MINIPUSH_LOG_LEVEL", &c.Log.Level)
	if v := getenv("MINIPUSH_API_KEYS"); v != "" {
		c.APIKeys = nil
		for i, kv := range strings.Split(v, ",") {
			name, key, ok := strings.Cut(strings.TrimSpace(kv), ":")
			if !ok {
				return fmt.Errorf("MINIPUSH_API_KEYS entry %d: want name:key", i+1)
			}
			c.APIKeys = append(c.APIKeys, APIKey{Name: name, Key: key})
		}
	}
	if f := getenv("MINIPUSH_API_KEYS_FILE"); f != "" {
		keys, err := readKeysFile(f)
		if err != nil {
			return err
		}
		c.APIKeys = keys
	}
	d, sv := &c.Delivery, &c.Server
	ints := map[string]*int{"DELIVERY_WORKERS": &d.Workers, "DELIVERY_BATCH": &d.Batch, "DELIVERY_MAX_ATTEMPTS": &d.MaxAttempts,
		"SERVER_MAX_HEADER_BYTES": &sv.MaxHeaderBytes, "SERVER_MAX_CONNS": &sv.MaxConns, "API_RATE_BURST": &c.APIRate.Burst}
	for k, dst := range ints {
		if v := getenv("MINIPUSH_" + k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("MINIPUSH_%s=%q: not an integer", k, v)
			}
			*dst = n
		}
	}
	durs := map[string]*time.Duration{"DELIVERY_LEASE": &d.Lease, "DELIVERY_BACKOFF_BASE": &d.BackoffBase,
		"DELIVERY_BACKOFF_MAX": &d.BackoffMax, "DELIVERY_THROTTLE_BACKOFF": &d.ThrottleBackoff,
		"DELIVERY_POLL_INTERVAL": &d.PollInterval, "DELIVERY_SEND_TIMEOUT": &d.SendTimeout,
		"DELIVERY_SHUTDOWN_TIMEOUT": &d.ShutdownTimeout, "SERVER_READ_HEADER_TIMEOUT": &sv.ReadHeaderTimeout,
		"SERVER_READ_TIMEOUT": &sv.ReadTimeout, "SERVER_WRITE_TIMEOUT": &sv.WriteTimeout, "SERVER_IDLE_TIMEOUT": &sv.IdleTimeout}
	for k, dst := range durs {
		if v := getenv("MINIPUSH_" + k); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("MINIPUSH_%s=%q: not a duration", k, v)
			}
			*dst = x
		}
	}
	for i := range c.Apps {
		a := &c.Apps[i]
		p := "MINIPUSH_APP_" + envName(a.Name) + "_"
		str(p+"APP_ID", &a.AppID)
		str(p+"BASE_URL", &a.BaseURL)
		str(p+"CONSENT", &a.Consent)
		if a.Events == nil {
			for _, v := range []string{"EVENTS_TOKEN", "EVENTS_TOKEN_FILE", "EVENTS_ENCODING_AES_KEY", "EVENTS_ENCODING_AES_KEY_FILE"} {
				if getenv(p+v) != "" {
					a.Events = &Events{}
				}
			}
		}
		str(p+"WEBHOOK_URL", webhookURL(&a.Webhook, getenv(p+"WEBHOOK_URL")))
		applySecretEnv(getenv, p, a.secrets())
	}
	for i := range c.APIKeys {
		k := &c.APIKeys[i]
		kp := "MINIPUSH_API_KEY_" + envName(k.Name)
		str(kp+"_WEBHOOK_URL", webhookURL(&k.Webhook, getenv(kp+"_WEBHOOK_URL")))
		applySecretEnv(getenv, kp, k.secrets())
		if v := getenv("MINIPUSH_API_KEY_" + envName(k.Name) + "_SCOPES"); v != "" {
			k.Scopes = nil
			for sc := range strings.SplitSeq(v, ",") {
				if sc = strings.TrimSpace(sc); sc != "" {
					k.Scopes = append(k.Scopes, sc)
				}
			}
		}
	}
	return nil
}

// readKeysFile reads API keys from a file of "name:key" lines (blank
// lines and # comments skipped).
func readKeysFile(path string) ([]APIKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("MINIPUSH_API_KEYS_FILE: %w", err)
	}
	var keys []APIKey
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, key, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("MINIPUSH_API_KEYS_FILE %s line %d: want name:key", path, i+1)
		}
		keys = append(keys, APIKey{Name: strings.TrimSpace(name), Key: strings.TrimSpace(key)})
	}
	return keys, nil
}

func envName(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(s))
}

// yamlValue matches the value excerpts yaml puts in its errors.
var yamlValue = regexp.MustCompile("`[^`]*`")

// yamlUnknownField matches yaml's "field X not found in type T".
var yamlUnknownField = regexp.MustCompile(`field (.*?) not found in type`)

// settingLike is what a setting's name looks like: lower-case words joined
// by '_' (no digits: secrets nearly always hold some).
var settingLike = regexp.MustCompile(`^[a-z][a-z_]{0,31}$`)

// scrubYAMLError keeps yaml's error from quoting what may be a secret:
// the value excerpts it quotes ("cannot unmarshal !!str `s3cr3t-...`": a
// secret written at the wrong level), and an unknown field's name unless
// it looks like a setting ("sekret" is a typo to point at; a key written
// where a field name goes, as in {name: a, s3cr3tKey}, is not).
func scrubYAMLError(msg string) string {
	msg = yamlValue.ReplaceAllString(msg, "`…`")
	return yamlUnknownField.ReplaceAllStringFunc(msg, func(m string) string {
		if name := yamlUnknownField.FindStringSubmatch(m)[1]; !settingLike.MatchString(name) {
			return "field … (not a setting name; not shown) not found in type"
		}
		return m
	})
}

var appName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$`)

// Validate checks every setting, naming the first bad one.
func (c *Config) Validate() error {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", setting, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "want host:port, got %q", c.Listen)
	}
	c.TLS.check(bad)
	for _, p := range c.Server.Limits().Check() {
		bad("server."+serverSettings[p.Setting], "%s", p.Message)
	}
	c.Storage.check(bad)
	if len(c.APIKeys) == 0 {
		bad("api_keys", "at least one API key is required (callers send Authorization: Bearer <key>)")
	}
	seenKeys := map[string]bool{}
	for i, k := range c.APIKeys {
		if k.Name == "" {
			bad(fmt.Sprintf("api_keys[%d].name", i), "required")
		}
		if len(k.Key) < 8 {
			bad(fmt.Sprintf("api_keys[%d].key", i), "must be at least 8 characters")
		}
		if seenKeys[k.Key] {
			bad(fmt.Sprintf("api_keys[%d].key", i), "duplicate key")
		}
		seenKeys[k.Key] = true
		if k.Rate != nil {
			checkRate(bad, fmt.Sprintf("api_keys[%d].rate", i), *k.Rate)
		}
		for _, sc := range k.Scopes {
			if !slices.Contains(Scopes, sc) {
				bad(fmt.Sprintf("api_keys[%d].scopes", i), "unknown scope %q (scopes: %s)", sc, strings.Join(Scopes, ", "))
			}
		}
		checkWebhook(bad, fmt.Sprintf("api_keys[%d].webhook", i), k.Webhook)
	}
	w := c.Webhooks
	for setting, ok := range map[string]bool{"webhooks.timeout": w.Timeout > 0, "webhooks.backoff_base": w.BackoffBase > 0,
		"webhooks.backoff_max": w.BackoffMax >= w.BackoffBase, "webhooks.retry_window": w.RetryWindow > 0,
		"webhooks.workers": w.Workers > 0, "webhooks.poll_interval": w.PollInterval > 0} {
		if !ok {
			bad(setting, "must be positive (backoff_max at least backoff_base)")
		}
	}
	checkRate(bad, "api_rate", c.APIRate)
	if len(c.Apps) == 0 {
		bad("apps", "at least one app is required")
	}
	names := map[string]bool{}
	for i, a := range c.Apps {
		f := fmt.Sprintf("apps[%d]", i)
		if !appName.MatchString(a.Name) {
			bad(f+".name", "want 1-64 letters, digits, '_', '.', '-', got %q", a.Name)
		}
		if names[a.Name] {
			bad(f+".name", "duplicate app name %q", a.Name)
		}
		names[a.Name] = true
		if !slices.Contains(Platforms, a.Platform) {
			bad(f+".platform", "want one of %v, got %q", Platforms, a.Platform)
		}
		if a.AppID == "" {
			bad(f+".app_id", "required")
		}
		if a.Platform == "alipay" {
			if a.PrivateKey == "" {
				bad(f+".private_key", "the app private key (private_key or private_key_file) is required for alipay")
			}
			if a.AlipayPublicKey == "" {
				bad(f+".alipay_public_key", "the Alipay public key (alipay_public_key or alipay_public_key_file) is required")
			}
		} else if a.Platform != "" && a.Secret == "" {
			bad(f+".secret", "required for %s (secret, secret_file, or MINIPUSH_APP_%s_SECRET[_FILE])", a.Platform, envName(a.Name))
		}
		if a.BaseURL != "" {
			if u, err := url.Parse(a.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad(f+".base_url", "want an http(s) URL, got %q", a.BaseURL)
			}
		}
		if a.DouyinAPI != "" && (a.Platform != "douyin" || (a.DouyinAPI != "v1" && a.DouyinAPI != "v2")) {
			bad(f+".douyin_api", "v1 or v2, for douyin apps only; got %q", a.DouyinAPI)
		}
		if a.Rate.PerSecond < 0 {
			bad(f+".rate.per_second", "must be >= 0")
		}
		if a.Rate.Burst < 0 {
			bad(f+".rate.burst", "must be >= 0")
		}
		if a.Rate.PerUserInterval < 0 {
			bad(f+".rate.per_user_interval", "must be >= 0")
		}
		checkEvents(bad, f, a)
		if a.Campaigns != nil {
			a.Campaigns.check(bad, f)
		}
		checkTemplates(bad, f, a)
		checkWebhook(bad, f+".webhook", a.Webhook)
	}
	for i, r := range c.ContentRules {
		f := fmt.Sprintf("content_rules[%d]", i)
		if r.Name == "" {
			bad(f+".name", "required (it is reported when the rule matches)")
		}
		if len(r.Words) == 0 && r.Regex == "" {
			bad(f, "give words or regex")
		}
		if r.Regex != "" {
			if _, err := regexp.Compile(r.Regex); err != nil {
				bad(f+".regex", "%v", err)
			}
		}
	}
	d := c.Delivery
	positive := map[string]bool{"delivery.workers": d.Workers > 0, "delivery.batch": d.Batch > 0, "delivery.max_attempts": d.MaxAttempts > 0,
		"delivery.lease": d.Lease > 0, "delivery.backoff_base": d.BackoffBase > 0, "delivery.backoff_max": d.BackoffMax >= d.BackoffBase,
		"delivery.throttle_backoff": d.ThrottleBackoff > 0, "delivery.poll_interval": d.PollInterval > 0,
		"delivery.send_timeout": d.SendTimeout > 0, "delivery.shutdown_timeout": d.ShutdownTimeout > 0}
	for _, k := range slices.Sorted(maps.Keys(positive)) {
		if !positive[k] {
			bad(k, "must be > 0 (backoff_max >= backoff_base)")
		}
	}
	if d.Lease <= d.SendTimeout && d.Lease > 0 {
		bad("delivery.lease", "must be longer than delivery.send_timeout (%s), or a slow send is handed to a second worker", d.SendTimeout)
	}
	if c.Tokens.RefetchFloor < 0 {
		bad("tokens.refetch_floor", "must be >= 0 (0: every rejected token is fetched again)")
	}
	if c.Tokens.MaxFetches < 0 || (c.Tokens.MaxFetches > 0 && c.Tokens.FetchWindow <= 0) {
		bad("tokens.max_fetches", "must be >= 0 (0: no limit), with tokens.fetch_window > 0")
	}
	for _, r := range []struct {
		name string
		d    time.Duration
	}{{"retention.delivered", c.Retention.Delivered}, {"retention.failed", c.Retention.Failed},
		{"retention.rejected", c.Retention.Rejected}, {"retention.cancelled", c.Retention.Cancelled}} {
		if r.d != 0 && r.d < time.Hour {
			bad(r.name, "must be 0 (keep forever) or at least 1h, got %s", r.d)
		}
	}
	if c.Idempotency.Window < time.Minute {
		bad("idempotency.window", "must be at least 1m (clients retry within minutes), got %s", c.Idempotency.Window)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "want text or json, got %q", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "want debug, info, warn or error, got %q", c.Log.Level)
	}
	return errors.Join(errs...)
}

func (st Storage) check(bad func(setting, format string, args ...any)) {
	switch st.Driver {
	case DriverSQLite:
		if st.Path == "" {
			bad("storage.path", "required")
		}
		if st.Sync != "normal" && st.Sync != "full" {
			bad("storage.sync", "want normal or full, got %q", st.Sync)
		}
	case DriverRedis:
		if st.URL == "" {
			bad("storage.url", "required for the redis driver (redis://host:port; url_file or MINIPUSH_STORAGE_URL[_FILE])")
		} else if u, err := url.Parse(st.URL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			// Never quote the URL: it may hold the password.
			bad("storage.url", "want redis://[:password@]host:port[/db] or rediss://…")
		}
		if strings.ContainsAny(st.Prefix, "{} ") {
			bad("storage.prefix", "must not contain braces or spaces, got %q", st.Prefix)
		}
		if st.WaitReplicas < 0 {
			bad("storage.wait_replicas", "must be >= 0")
		}
		if st.WaitReplicas > 0 && st.Cluster {
			bad("storage.wait_replicas", "not supported with storage.cluster (WAIT must follow each write on its node)")
		}
		if st.WaitTimeout < 0 {
			bad("storage.wait_timeout", "must be >= 0")
		}
	default:
		bad("storage.driver", "unknown driver %q (supported: sqlite, redis)", st.Driver)
	}
}

// Where names the storage for logs: the database's path, or the Redis URL
// without its password.
func (st Storage) Where() string {
	if st.Driver == DriverRedis {
		return "redis " + st.RedactedURL()
	}
	return st.Path
}

// RedactedURL is the storage URL with its password replaced, for logs and
// errors.
func (st Storage) RedactedURL() string {
	u, err := url.Parse(st.URL)
	if err != nil {
		if st.URL == "" {
			return ""
		}
		return redacted
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "redacted") // brackets would be escaped
	}
	return u.String()
}

func checkRate(bad func(setting, format string, args ...any), setting string, r KeyRate) {
	if r.PerSecond < 0 {
		bad(setting+".per_second", "must be >= 0 (0: no limit)")
	}
	if r.PerSecond > 0 && r.Burst < 1 {
		bad(setting+".burst", "must be >= 1 when per_second is set")
	}
}

// wechatPushToken is the console's rule for the push Token: "必须为英文或数字，长度为3-32字符".
var wechatPushToken = regexp.MustCompile(`^[A-Za-z0-9]{3,32}$`)

// checkTemplates validates an app's declared templates and list settings.
func checkTemplates(bad func(setting, format string, args ...any), f string, a App) {
	for _, id := range slices.Sorted(maps.Keys(a.Templates)) {
		kws := a.Templates[id]
		switch {
		case strings.TrimSpace(id) == "":
			bad(f+".templates", "a template id is empty")
		case len(kws) == 0:
			bad(f+".templates."+id, "list the template's keyword keys (e.g. [thing1, time2])")
		}
		seen := map[string]bool{}
		for _, k := range kws {
			if strings.TrimSpace(k) == "" || seen[k] {
				bad(f+".templates."+id, "keyword keys must be non-empty and distinct, got %q", kws)
				break
			}
			seen[k] = true
		}
	}
	if a.TemplateList != nil && *a.TemplateList && !a.HasTemplateList() && slices.Contains(Platforms, a.Platform) {
		what := a.Platform
		if a.Platform == "douyin" {
			what = "douyin_api v1"
		}
		bad(f+".template_list", "%s has no template list API: declare the templates in templates instead", what)
	}
	if a.TemplateRefresh != 0 && a.TemplateRefresh < time.Minute {
		bad(f+".template_refresh", "must be 0 (default %s) or at least 1m, got %s", DefaultTemplateRefresh, a.TemplateRefresh)
	}
}

// checkEvents validates an app's events, consent and long-term templates.
func checkEvents(bad func(setting, format string, args ...any), f string, a App) {
	pushes := slices.Contains(PushPlatforms, a.Platform)
	switch a.Consent {
	case "", ConsentObserve:
	case ConsentEnforce:
		if a.Platform != "" && !pushes {
			bad(f+".consent", "enforce needs the platform's consent events, and %s pushes none: use observe", a.Platform)
		} else if a.Events == nil {
			bad(f+".consent", "enforce needs events: the ledger learns who said no from the platform's pushes")
		}
	default:
		bad(f+".consent", "want observe or enforce, got %q", a.Consent)
	}
	if len(a.LongTermTemplates) > 0 && a.Platform != "wechat" {
		bad(f+".long_term_templates", "for wechat apps only (%s says a template's kind in its events)", a.Platform)
	}
	e := a.Events
	if e == nil {
		return
	}
	if a.Platform != "" && !pushes {
		bad(f+".events", "%s pushes no events to the developer's server (supported: %v)", a.Platform, PushPlatforms)
		return
	}
	if e.MaxAge < 0 {
		bad(f+".events.max_age", "must be >= 0 (0: the default %s)", DefaultEventsMaxAge)
	}
	switch a.Platform {
	case "wechat":
		if !wechatPushToken.MatchString(e.Token) {
			bad(f+".events.token", "the push Token is required: 3 to 32 letters or digits, as in the console (or MINIPUSH_APP_%s_EVENTS_TOKEN)", envName(a.Name))
		}
		if e.EncodingAESKey != "" {
			if _, err := AESKey(e.EncodingAESKey); err != nil {
				bad(f+".events.encoding_aes_key", "%v", err)
			}
		}
	case "douyin":
		if e.EncodingAESKey != "" {
			bad(f+".events.encoding_aes_key", "douyin webhooks are not encrypted: leave it out")
		}
	}
}

// AESKey decodes a WeChat EncodingAESKey: 43 characters of base64 (the
// trailing "=" left out) holding the 32-byte AES-256 key.
func AESKey(encodingAESKey string) ([]byte, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("must be 43 characters, got %d", len(encodingAESKey))
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("must be the console's 43 characters of base64 (letters, digits, + and /)")
	}
	return key, nil
}

// EventsMaxAge is the app's push timestamp window (its own, or the
// default).
func (a App) EventsMaxAge() time.Duration {
	if a.Events == nil || a.Events.MaxAge == 0 {
		return DefaultEventsMaxAge
	}
	return a.Events.MaxAge
}

// App returns the app with that name.
func (c *Config) App(name string) (App, bool) {
	for _, a := range c.Apps {
		if a.Name == name {
			return a, true
		}
	}
	return App{}, false
}

// checkWebhook validates a result webhook's settings.
func checkWebhook(bad func(setting, format string, args ...any), f string, w *Webhook) {
	if w == nil {
		return
	}
	if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		bad(f+".url", "want an http(s) URL without credentials, got %q", redactURL(w.URL))
	}
	if len(w.Secret) < 16 {
		bad(f+".secret", "required, at least 16 characters (secret, secret_file, or the _WEBHOOK_SECRET[_FILE] variable)")
	}
}

// redactURL drops a URL's user info (it may hold a password).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparsable)"
		}
		return s
	}
	u.User = nil
	return u.String()
}

// WebhookOf is the result webhook of a message of app sent with API key
// key: the key's when it has one, else the app's; nil for none.
func (c *Config) WebhookOf(app, key string) *Webhook {
	for i := range c.APIKeys {
		if c.APIKeys[i].Name == key && key != "" && c.APIKeys[i].Webhook != nil {
			return c.APIKeys[i].Webhook
		}
	}
	for i := range c.Apps {
		if c.Apps[i].Name == app {
			return c.Apps[i].Webhook
		}
	}
	return nil
}

const redacted = "[redacted]"

// Redacted is a copy safe to print or log: secrets, keys and API keys are
// replaced.
func (c *Config) Redacted() Config {
	r := *c
	r.Storage.URL = c.Storage.RedactedURL()
	if r.Storage.Password != "" {
		r.Storage.Password = redacted
	}
	r.APIKeys = make([]APIKey, len(c.APIKeys))
	for i, k := range c.APIKeys {
		r.APIKeys[i] = k.redacted()
	}
	r.Apps = make([]App, len(c.Apps))
	for i, a := range c.Apps {
		r.Apps[i] = a.redacted()
	}
	return r
}

func (a App) redacted() App {
	if a.Events != nil {
		e := *a.Events // a copy: the caller's app keeps its secrets
		a.Events = &e
	}
	if a.Webhook != nil {
		w := *a.Webhook
		a.Webhook = &w
	}
	redactSecrets(a.secrets())
	return a
}

func (k APIKey) redacted() APIKey {
	if k.Webhook != nil {
		w := *k.Webhook
		k.Webhook = &w
	}
	redactSecrets(k.secrets())
	return k
}

// String renders the redacted configuration as YAML. It has a value
// receiver, like the String, GoString and LogValue methods below, so that
// fmt and slog never reach the secrets however a Config, App or APIKey is
// passed to them (%v of a Config value, %+v of an App, slog.Any(…)).
func (c Config) String() string {
	r := c.Redacted()
	b, _ := yaml.Marshal(&r)
	return string(b)
}

// GoString is String for %#v.
func (c Config) GoString() string { return c.String() }

// LogValue logs the redacted configuration.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String prints the app with its secrets redacted.
func (a App) String() string {
	type plain App // no methods: fmt prints the fields
	return fmt.Sprintf("%+v", plain(a.redacted()))
}

// GoString is String for %#v.
func (a App) GoString() string { return "config.App" + a.String() }

// LogValue logs the app with its secrets redacted.
func (a App) LogValue() slog.Value { return slog.StringValue(a.String()) }

// String prints the key's name, never the key.
func (k APIKey) String() string {
	type plain APIKey
	return fmt.Sprintf("%+v", plain(k.redacted()))
}

// GoString is String for %#v.
func (k APIKey) GoString() string { return "config.APIKey" + k.String() }

// LogValue logs the key's name, never the key.
func (k APIKey) LogValue() slog.Value { return slog.StringValue(k.String()) }
