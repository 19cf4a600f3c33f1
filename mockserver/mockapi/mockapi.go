// Package mockapi holds the wire types of the mock's control API (/_mock/…)
// and of its seed files. The server, the typed client (mockclient) and seed
// files all share these shapes, so a field added here is a contract change.
package mockapi

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"time"
)

// Platforms the mock emulates.
const (
	PlatformWeChat   = "wechat"
	PlatformAlipay   = "alipay"
	PlatformDouyin   = "douyin"
	PlatformKuaishou = "kuaishou"
	PlatformBaidu    = "baidu"
)

// App registers a mini-program on a platform. Secret is write-only: the mock
// never returns it.
type App struct {
	Platform string `json:"platform" yaml:"platform"`
	AppID    string `json:"app_id" yaml:"app_id"`
	Secret   string `json:"secret,omitempty" yaml:"secret,omitempty"`
	// Pages, when set, lists the pages of the published version; a send whose
	// page is not among them answers the platform's invalid-page code.
	Pages []string `json:"pages,omitempty" yaml:"pages,omitempty"`
	// Quotas override the platform's default call limits for this app.
	Quotas []Quota `json:"quotas,omitempty" yaml:"quotas,omitempty"`
	// IPWhitelist, when set, is checked on token endpoints (WeChat 40164).
	IPWhitelist []string `json:"ip_whitelist,omitempty" yaml:"ip_whitelist,omitempty"`

	// Alipay: the app public key (PEM) requests are verified with, and
	// optionally the platform private key (PEM) the mock signs answers with.
	// Without an app public key the mock generates a key pair and returns the
	// app private key once. Private keys are never echoed afterwards.
	AppPublicKey     string `json:"app_public_key,omitempty" yaml:"app_public_key,omitempty"`
	AlipayPrivateKey string `json:"alipay_private_key,omitempty" yaml:"alipay_private_key,omitempty"`
	// CertMode (Alipay) registers the app in certificate mode: the mock's CA
	// issues an app certificate, an Alipay certificate and the root bundle,
	// answered once as PEM in app_cert, alipay_cert and alipay_root_cert
	// (with their SNs in app_cert_sn, alipay_cert_sn, alipay_root_cert_sn);
	// requests must then name them (docs/mock-alipay.md).
	CertMode bool `json:"cert_mode,omitempty" yaml:"cert_mode,omitempty"`

	// Push, when set, is where the platform pushes the app's events
	// (WeChat and Douyin; the other platforms push nothing).
	Push *PushConfig `json:"push,omitempty" yaml:"push,omitempty"`

	// Seed-only conveniences: nested users, templates and grants.
	Users     []string   `json:"users,omitempty" yaml:"users,omitempty"`
	Templates []Template `json:"templates,omitempty" yaml:"templates,omitempty"`
	Grants    []Grant    `json:"grants,omitempty" yaml:"grants,omitempty"`
}

// AppInfo is what the mock answers about an app (never the secret).
type AppInfo struct {
	Platform  string    `json:"platform"`
	AppID     string    `json:"app_id"`
	Pages     []string  `json:"pages,omitempty"`
	Users     int       `json:"users"`
	Templates int       `json:"templates"`
	Push      *PushInfo `json:"push,omitempty"`
}

// User registers an openid for an app.
type User struct {
	Platform string `json:"platform" yaml:"platform"`
	AppID    string `json:"app_id" yaml:"app_id"`
	OpenID   string `json:"openid" yaml:"openid"`
}

// Template types, as WeChat numbers them in gettemplate.
const (
	TemplateOneTime  = "one_time"  // WeChat type 2
	TemplateLongTerm = "long_term" // WeChat type 3
)

// Template is a private template of an app. Keywords are data keys such as
// "thing1"; a keyword's type is its name without the trailing digits.
type Template struct {
	Platform   string `json:"platform,omitempty" yaml:"platform,omitempty"`
	AppID      string `json:"app_id,omitempty" yaml:"app_id,omitempty"`
	TemplateID string `json:"template_id" yaml:"template_id"`
	Title      string `json:"title" yaml:"title"`
	// Keywords are the data keys in order. KeywordNames optionally gives each
	// key a display name (used in the template's content text).
	Keywords     []string          `json:"keywords" yaml:"keywords"`
	KeywordNames map[string]string `json:"keyword_names,omitempty" yaml:"keyword_names,omitempty"`
	// Enums restricts "enum" keywords to listed values.
	Enums map[string][]string `json:"enums,omitempty" yaml:"enums,omitempty"`
	// Type is one_time (default) or long_term.
	Type string `json:"type,omitempty" yaml:"type,omitempty"`
}

// Grant gives a user send credits for a template: Count one-time sends, or
// LongTerm unlimited sends. Registering a grant registers the user.
type Grant struct {
	Platform   string `json:"platform,omitempty" yaml:"platform,omitempty"`
	AppID      string `json:"app_id,omitempty" yaml:"app_id,omitempty"`
	OpenID     string `json:"openid" yaml:"openid"`
	TemplateID string `json:"template_id" yaml:"template_id"`
	Count      int    `json:"count,omitempty" yaml:"count,omitempty"`
	LongTerm   bool   `json:"long_term,omitempty" yaml:"long_term,omitempty"`
}

// GrantState is the remaining consent of one user for one template.
type GrantState struct {
	Platform   string `json:"platform"`
	AppID      string `json:"app_id"`
	OpenID     string `json:"openid"`
	TemplateID string `json:"template_id"`
	Remaining  int    `json:"remaining"`
	LongTerm   bool   `json:"long_term"`
}

// Rejection is a template a user turned off (in settings or a subscribe
// popup) and has not accepted since. Sends answer the platform's
// not-subscribed code, as they do without a grant.
type Rejection struct {
	Platform   string `json:"platform"`
	AppID      string `json:"app_id"`
	OpenID     string `json:"openid"`
	TemplateID string `json:"template_id"`
}

// Message is one message the platform accepted, as it landed in the inbox.
type Message struct {
	ID       string `json:"id"`
	Platform string `json:"platform"`
	// Kind is what sort of message it is: "subscribe" (a subscribe or
	// template message, the default) or "customer_service"; see the Kind…
	// constants.
	Kind       string `json:"kind"`
	AppID      string `json:"app_id"`
	OpenID     string `json:"openid"`
	TemplateID string `json:"template_id"`
	// MsgType is a customer-service message's type ("text", "image",
	// "link", "miniprogrampage"); Data then holds its fields by their
	// platform names (text: content; image: media_id; …).
	MsgType string            `json:"msgtype,omitempty"`
	Data    map[string]string `json:"data"`
	Page    string            `json:"page,omitempty"`
	// MsgID is the id the platform answered the sender with.
	MsgID      string    `json:"msgid,omitempty"`
	State      string    `json:"miniprogram_state,omitempty"`
	Lang       string    `json:"lang,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// Messages is the answer of GET /_mock/messages.
type Messages struct {
	Messages []Message `json:"messages"`
	// Total counts every message matching the filter that is still held.
	Total int `json:"total"`
	// Dropped counts messages evicted from the bounded inbox since reset.
	Dropped uint64 `json:"dropped"`
}

// Request is one platform call in the journal.
type Request struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Platform  string    `json:"platform"`
	Endpoint  string    `json:"endpoint"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	AppID     string    `json:"app_id,omitempty"`
	OpenID    string    `json:"openid,omitempty"`
	Status    int       `json:"status"` // HTTP status answered; 0 when the connection was dropped
	ErrCode   int       `json:"errcode"`
	Fault     string    `json:"fault,omitempty"`
	LatencyMS float64   `json:"latency_ms"`

	// Query is the URL query as sent; Body and Answer are the first bytes
	// of the request body the platform read and of its answer (up to the
	// mock's journal body limit, 2 KiB by default). App secrets, access
	// tokens, signatures and keys are masked as "***" in all three.
	// BodyBytes and AnswerBytes count every byte; the *Truncated flags say
	// a capture was cut at the limit.
	Query           string `json:"query,omitempty"`
	Body            string `json:"body,omitempty"`
	BodyBytes       int64  `json:"body_bytes,omitempty"`
	BodyTruncated   bool   `json:"body_truncated,omitempty"`
	Answer          string `json:"answer,omitempty"`
	AnswerBytes     int64  `json:"answer_bytes,omitempty"`
	AnswerTruncated bool   `json:"answer_truncated,omitempty"`
}

// Requests is the answer of GET /_mock/requests.
type Requests struct {
	Requests []Request `json:"requests"`
	Total    int       `json:"total"`
	Dropped  uint64    `json:"dropped"`
}

// Fault makes matching platform calls misbehave. Exactly one of ErrCode,
// HTTPStatus or Drop may be set; Latency may be combined with any of them or
// used alone (the call then proceeds normally after the delay).
type Fault struct {
	ID       string `json:"id,omitempty"`
	Platform string `json:"platform"`
	Endpoint string `json:"endpoint"`
	AppID    string `json:"app_id,omitempty"`
	OpenID   string `json:"openid,omitempty"`

	ErrCode    *int     `json:"errcode,omitempty"`
	ErrMsg     string   `json:"errmsg,omitempty"`
	HTTPStatus int      `json:"http_status,omitempty"`
	Latency    Duration `json:"latency,omitempty"`
	Drop       bool     `json:"drop,omitempty"`
	// Corrupt spoils a push on purpose (endpoint "push" only): "signature",
	// "msg_signature", "timestamp", "encryption" or "appid" (WeChat),
	// "signature" (Douyin). See docs/mock-<platform>.md.
	Corrupt string `json:"corrupt,omitempty"`

	// Times limits how often the fault fires (0 = unlimited).
	Times int `json:"times,omitempty"`
	// Probability in (0,1] fires the fault at random, from an RNG seeded
	// with Seed so runs are reproducible. 0 means always.
	Probability float64 `json:"probability,omitempty"`
	Seed        int64   `json:"seed,omitempty"`

	// Fired is reported by the mock: how many times the fault has fired.
	Fired int `json:"fired,omitempty"`
}

// Faults is the answer of GET /_mock/faults.
type Faults struct {
	Faults []Fault `json:"faults"`
}

// Quota limits calls of one endpoint of an app per window.
type Quota struct {
	Platform string `json:"platform,omitempty" yaml:"platform,omitempty"`
	AppID    string `json:"app_id,omitempty" yaml:"app_id,omitempty"`
	Endpoint string `json:"endpoint" yaml:"endpoint"`
	Limit    int    `json:"limit" yaml:"limit"`
	// Per is the window: "second", "minute", "day" or "month" (days and
	// months follow Beijing time).
	Per string `json:"per" yaml:"per"`
}

// QuotaUsage is a quota with the calls counted in its current window
// (GET /_mock/quotas).
type QuotaUsage struct {
	Quota
	Used int `json:"used"`
}

// Clock is the answer of /_mock/clock.
type Clock struct {
	Now    time.Time `json:"now"`
	Offset Duration  `json:"offset"`
}

// ClockChange is the body of POST /_mock/clock: advance it, or set it.
type ClockChange struct {
	Advance Duration   `json:"advance,omitempty"`
	Set     *time.Time `json:"set,omitempty"`
}

// ContentRules drive the content-security endpoints and rejections. Each
// list holds words (substring, case-insensitive); an entry may carry the
// platform label it maps to: {"word":"…","label":20001}.
type ContentRules struct {
	Risky  []ContentWord `json:"risky,omitempty" yaml:"risky,omitempty"`
	Review []ContentWord `json:"review,omitempty" yaml:"review,omitempty"`
	// RiskyImages marks images risky for the image-checking APIs: each entry
	// is the lower-case hex SHA-256 of the image's bytes, or an http(s) URL
	// matched exactly (for APIs that take an image by link, which the mock
	// never downloads).
	RiskyImages []string `json:"risky_images,omitempty" yaml:"risky_images,omitempty"`
}

// ContentWord is a word of a content rule list. In JSON and YAML it is
// either a plain string or {"word","label"}.
type ContentWord struct {
	Word  string `json:"word" yaml:"word"`
	Label int    `json:"label,omitempty" yaml:"label,omitempty"`
}

// UnmarshalJSON accepts "word" or {"word":…, "label":…}. The object form
// is strict: a misspelt key ("lable") is an error naming it, not a rule
// that silently matches with the default label. Other JSON kinds answer a
// *json.UnmarshalTypeError, which encoding/json fills with the field path.
func (w *ContentWord) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*w = ContentWord{Word: s}
		return nil
	case len(b) > 0 && b[0] == '{':
		type plain ContentWord
		var p plain
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return err
		}
		*w = ContentWord(p)
		return nil
	case string(b) == "null":
		return nil
	}
	return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[ContentWord]()}
}

// jsonKind names a JSON value's kind the way encoding/json's errors do.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "empty value"
	}
	switch b[0] {
	case '[':
		return "array"
	case '{':
		return "object"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// UnmarshalYAML accepts a scalar or a mapping.
func (w *ContentWord) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err == nil {
		*w = ContentWord{Word: s}
		return nil
	}
	type plain ContentWord
	var p plain
	if err := unmarshal(&p); err != nil {
		return err
	}
	*w = ContentWord(p)
	return nil
}

// LibraryTemplate is a public template of a platform's template library
// (WeChat getpubtemplatetitles / getpubtemplatekeywords).
type LibraryTemplate struct {
	TID        int              `json:"tid" yaml:"tid"`
	Title      string           `json:"title" yaml:"title"`
	Type       string           `json:"type,omitempty" yaml:"type,omitempty"`
	CategoryID int              `json:"category_id" yaml:"category_id"`
	Keywords   []LibraryKeyword `json:"keywords" yaml:"keywords"`
}

// LibraryKeyword is one keyword of a public template.
type LibraryKeyword struct {
	KID     int    `json:"kid" yaml:"kid"`
	Name    string `json:"name" yaml:"name"`
	Example string `json:"example" yaml:"example"`
	Rule    string `json:"rule" yaml:"rule"`
}

// Category is a service category of the template library.
type Category struct {
	ID   int    `json:"id" yaml:"id"`
	Name string `json:"name" yaml:"name"`
}

// Library is the public template library.
type Library struct {
	Categories []Category        `json:"categories,omitempty" yaml:"categories,omitempty"`
	Templates  []LibraryTemplate `json:"templates,omitempty" yaml:"templates,omitempty"`
}

// Seed is the whole initial state of a mock: what reset returns to.
type Seed struct {
	Apps         []App         `json:"apps,omitempty" yaml:"apps,omitempty"`
	ContentRules *ContentRules `json:"content_rules,omitempty" yaml:"content_rules,omitempty"`
	Library      *Library      `json:"library,omitempty" yaml:"library,omitempty"`
	// Start pins the mock clock at reset (default: real time).
	Start *time.Time `json:"start,omitempty" yaml:"start,omitempty"`
}

// Stats is the answer of GET /_mock/stats.
type Stats struct {
	Now        time.Time      `json:"now"`
	Apps       int            `json:"apps"`
	Users      int            `json:"users"`
	Templates  int            `json:"templates"`
	Messages   int            `json:"messages"`
	Dropped    uint64         `json:"messages_dropped"`
	Delivered  uint64         `json:"delivered_total"`
	Requests   uint64         `json:"requests_total"`
	ByEndpoint map[string]int `json:"requests_by_endpoint"`
	ByErrCode  map[string]int `json:"requests_by_errcode"`
	Faults     int            `json:"faults_active"`
	Pushes     PushQueue      `json:"pushes"`
}

// Error is the body of every non-2xx control API answer.
type Error struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("300ms").
// It also accepts a number of milliseconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// maxDurationMS is the largest millisecond count a Duration holds.
const maxDurationMS = float64(math.MaxInt64 / int64(time.Millisecond))

// UnmarshalJSON reads "1h30m" or a number of milliseconds; null leaves d
// unchanged. A bad value answers a *json.UnmarshalTypeError, which
// encoding/json fills with the field's path so the control API can name it.
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	bad := &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[Duration]()}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return bad
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			bad.Value = "string " + strconv.Quote(s)
			return bad
		}
		*d = Duration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return bad
	}
	if math.Abs(ms) > maxDurationMS {
		bad.Value = "number " + string(b)
		return bad
	}
	*d = Duration(time.Duration(ms * float64(time.Millisecond)))
	return nil
}
