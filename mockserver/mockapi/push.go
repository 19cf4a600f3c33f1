package mockapi

import (
	"encoding/json"
	"time"
)

// Push formats and modes (WeChat's console names them 数据格式 and 消息加解密方式).
const (
	PushFormatXML  = "xml"
	PushFormatJSON = "json"

	PushModePlain      = "plain"      // 明文模式
	PushModeCompatible = "compatible" // 兼容模式: plain fields and Encrypt in one body
	PushModeSafe       = "safe"       // 安全模式: Encrypt only
)

// PushConfig is where and how the platform pushes an app's events to the
// developer's server: WeChat's 消息推送 settings (URL, Token,
// EncodingAESKey, format, mode), Douyin's webhook (URL; Token is the
// webhook signing secret, the app secret when empty). Token and
// EncodingAESKey are write-only: the mock never returns them.
type PushConfig struct {
	URL            string `json:"url" yaml:"url"`
	Token          string `json:"token,omitempty" yaml:"token,omitempty"`
	EncodingAESKey string `json:"encoding_aes_key,omitempty" yaml:"encoding_aes_key,omitempty"`
	// Format is xml (WeChat's default) or json (Douyin: json only).
	Format string `json:"format,omitempty" yaml:"format,omitempty"`
	// Mode is plain (default), compatible or safe (WeChat only).
	Mode string `json:"mode,omitempty" yaml:"mode,omitempty"`
	// OriginalID is the mini-program's original id (gh_…), the
	// ToUserName of WeChat pushes; derived from the app id when empty.
	OriginalID string `json:"original_id,omitempty" yaml:"original_id,omitempty"`
	// SentEvents turns WeChat's subscribe_msg_sent_event after each
	// accepted send on or off (default on).
	SentEvents *bool `json:"sent_events,omitempty" yaml:"sent_events,omitempty"`
}

// PushInfo is what the mock shows of an app's push settings: never the
// secrets, only whether they are set.
type PushInfo struct {
	URL               string `json:"url"`
	Format            string `json:"format"`
	Mode              string `json:"mode"`
	OriginalID        string `json:"original_id,omitempty"`
	TokenSet          bool   `json:"token_set"`
	EncodingAESKeySet bool   `json:"encoding_aes_key_set"`
	SentEvents        bool   `json:"sent_events,omitempty"`
	// Signer names what signs the pushes (Douyin: "token" or "app_secret").
	Signer string `json:"signer,omitempty"`
}

// PushSettings is the body of PUT /_mock/apps/push: an app's new push
// settings (null removes them).
type PushSettings struct {
	Platform string      `json:"platform"`
	AppID    string      `json:"app_id"`
	Push     *PushConfig `json:"push"`
}

// PushSettingsResult answers PUT /_mock/apps/push and carries the
// handshake the save ran (absent when the settings were removed).
type PushSettingsResult struct {
	Platform string        `json:"platform"`
	AppID    string        `json:"app_id"`
	Push     *PushInfo     `json:"push"`
	Verify   *VerifyResult `json:"verify,omitempty"`
}

// PushTarget names an app: the body of POST /_mock/pushes/verify.
type PushTarget struct {
	Platform string `json:"platform"`
	AppID    string `json:"app_id"`
}

// VerifyResult is the outcome of the URL-verification handshake (WeChat's
// GET with echostr, Douyin's verify_webhook challenge).
type VerifyResult struct {
	Passed    bool    `json:"passed"`
	URL       string  `json:"url"`
	Status    int     `json:"status"`
	Body      string  `json:"body"`
	LatencyMS float64 `json:"latency_ms"`
	// Error says what was wrong when Passed is false.
	Error string `json:"error,omitempty"`
}

// Push outcomes in the journal.
const (
	PushDelivered = "delivered" // the receiver's answer was accepted
	PushRetry     = "retry"     // this attempt failed; the push is sent again
	PushFailed    = "failed"    // the last attempt failed; the platform gives up
	PushDropped   = "dropped"   // never sent: queue full, a drop fault, shutdown, settings removed
	PushPassed    = "passed"    // a handshake that passed
	PushRejected  = "rejected"  // a handshake that failed
)

// Push is one attempt to deliver a push (or one handshake) in the journal.
type Push struct {
	Seq uint64 `json:"seq"`
	// ID names the push across its attempts ("p12").
	ID       string    `json:"id"`
	Time     time.Time `json:"time"` // mock clock when the attempt started
	Platform string    `json:"platform"`
	AppID    string    `json:"app_id"`
	// Event is the event name (WeChat: Event, or MsgType for a user
	// message; Douyin: event); "verify" / "verify_webhook" for handshakes.
	Event   string `json:"event"`
	OpenID  string `json:"openid,omitempty"`
	Attempt int    `json:"attempt"` // 0 the first try, 1… the re-sends
	Method  string `json:"method,omitempty"`
	// URL is the full URL called, query included (signature, timestamp,
	// nonce…); never a secret.
	URL         string `json:"url,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	// Body is what was sent (the encrypted envelope in safe mode).
	Body string `json:"body,omitempty"`
	// Status is the receiver's HTTP status, 0 when it gave none.
	Status    int     `json:"status"`
	Answer    string  `json:"answer"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
	Fault     string  `json:"fault,omitempty"`
	Outcome   string  `json:"outcome"`
}

// PushQueue counts what the push engine holds and has done since reset.
type PushQueue struct {
	Queued    int    `json:"queued"`
	InFlight  int    `json:"in_flight"`
	Enqueued  uint64 `json:"enqueued_total"`
	Delivered uint64 `json:"delivered_total"`
	Failed    uint64 `json:"failed_total"`
	// Dropped counts pushes never sent: queue overflow (the oldest queued
	// push goes), drop faults, removed settings, shutdown.
	Dropped uint64 `json:"dropped_total"`
}

// Pushes is the answer of GET /_mock/pushes.
type Pushes struct {
	Pushes []Push `json:"pushes"`
	Total  int    `json:"total"`
	// Evicted counts journal entries dropped from the bounded journal.
	Evicted uint64    `json:"evicted"`
	Queue   PushQueue `json:"queue"`
}

// Popup is a user's answer to a subscribe popup (wx.requestSubscribeMessage,
// tt.requestSubscribeMessage): the templates accepted and rejected. Times
// repeats the same answer (default 1), as a user tapping the button again.
type Popup struct {
	Platform string   `json:"platform"`
	AppID    string   `json:"app_id"`
	OpenID   string   `json:"openid"`
	Accept   []string `json:"accept,omitempty"`
	Reject   []string `json:"reject,omitempty"`
	Times    int      `json:"times,omitempty"`
}

// UserActionResult answers a user action (popup, settings change, hand
// event): the user's grants afterwards and the pushes queued.
type UserActionResult struct {
	Grants []GrantState `json:"grants"`
	// Pushes are the ids of the pushes queued (see GET /_mock/pushes); empty
	// when the app has no push settings.
	Pushes []string `json:"pushes"`
	// Effects says what a hand-written event changed ("accept T for o…").
	Effects []string `json:"effects,omitempty"`
}

// EventPush is the body of POST /_mock/events: any event, written with the
// platform's own field names (WeChat: ToUserName, MsgType, Event, List…;
// Douyin: event, from_user_id, content…), pushed in the app's format and
// mode.
type EventPush struct {
	Platform string          `json:"platform"`
	AppID    string          `json:"app_id"`
	Event    json.RawMessage `json:"event"`
}
