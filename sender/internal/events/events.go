// Package events receives what the platforms push to the sender — WeChat's
// message push (消息推送) and Douyin's webhooks — at
// /v1/platform-events/{app}, and turns it into the consent ledger's
// changes and messages' delivery receipts (docs/events.md).
//
// A push is verified first (signatures, the timestamp window, decryption
// and the app id inside), then stored durably, then answered — "success"
// as fast as storage commits — and processed after: the stored event is
// the unit of work, so a crash between the answer and the processing loses
// nothing, and the processor picks it up after a restart. Re-sent pushes
// are recognised by a key per platform and stored once. A forged, stale,
// undecryptable or malformed push is refused with 400 or 401 and a reason,
// and changes nothing.
//
// One file per platform encoding: wechat.go (handshake, query, envelope),
// wechat_crypto.go, wechat_decode.go (XML and JSON bodies), douyin.go;
// process.go turns stored events into effects.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Path is the route pushes arrive at; {app} is the sender's app name.
const Path = "/v1/platform-events/{app}"

// MaxBody bounds a push's body. Subscribe events are a few hundred bytes;
// a media-check result a few kilobytes.
const MaxBody = 256 << 10

// App is one app's push settings.
type App struct {
	Name     string
	Platform string // wechat or douyin
	AppID    string
	// Token is WeChat's push Token, or Douyin's webhook secret (Secret
	// when empty).
	Token  string
	Secret string
	// AESKey is WeChat's decoded EncodingAESKey (nil: plain mode only).
	AESKey []byte
	// MaxAge is WeChat's timestamp window.
	MaxAge time.Duration
	// LongTerm lists WeChat's long-term templates (their accept is a
	// standing grant).
	LongTerm map[string]bool
}

// Store is what the receiver and the processor need from storage.
type Store interface {
	PutEvent(ctx context.Context, e message.Event) (message.Event, bool, error)
	PendingEvents(ctx context.Context, limit int) ([]message.Event, error)
	CompleteEvent(ctx context.Context, id string, fx storage.EventEffects, at time.Time) error
	PruneEvents(ctx context.Context, before time.Time) (int, error)
}

// Observer counts what arrives and what it changes (metrics). Any method
// may be a no-op.
type Observer interface {
	// Received counts a push: "stored", "duplicate", "handshake", or
	// "refused" with the refusal's reason class.
	Received(app, outcome, reason string)
	// Consent counts a ledger change an event made ("accept", "reject").
	Consent(app, kind string)
	// Receipt counts a delivery receipt ("delivered", "failed").
	Receipt(app, status string)
}

// Payload is a push as the receiver decoded it, whatever its platform's
// format and mode: what is stored and what processing reads.
type Payload struct {
	Platform string `json:"platform"`
	// Event is the event's name; for a WeChat user message, its MsgType.
	Event   string `json:"event"`
	MsgType string `json:"msg_type,omitempty"` // WeChat
	User    string `json:"user,omitempty"`     // WeChat FromUserName, Douyin from_user_id
	// CreateTime is WeChat's CreateTime, Douyin's content time (Unix
	// seconds).
	CreateTime int64 `json:"create_time,omitempty"`
	// MsgID is a WeChat user message's MsgId, or Douyin's Msg-Id header.
	MsgID string `json:"msg_id,omitempty"`
	Items []Item `json:"items,omitempty"`
}

// Item is one template an event is about.
type Item struct {
	TemplateID string `json:"template_id"`
	// Status is WeChat's SubscribeStatusString: accept or reject.
	Status     string `json:"status,omitempty"`
	PopupScene string `json:"popup_scene,omitempty"`
	// MsgID, ErrorCode, ErrorStatus: WeChat's subscribe_msg_sent_event.
	MsgID       string `json:"msg_id,omitempty"`
	ErrorCode   string `json:"error_code,omitempty"`
	ErrorStatus string `json:"error_status,omitempty"`
	// Action is Douyin's subscribe_action (1 one-time, 2 long-term, 3
	// long-term rejected, 4 one-time rejected).
	Action int `json:"action,omitempty"`
}

// refusal is a push turned away: its HTTP status, a reason class for
// metrics and the reason in words for the answer and the log.
type refusal struct {
	status int
	class  string
	reason string
}

func (r *refusal) Error() string { return r.reason }

// Reason classes of refusals (the metric's label).
const (
	refusedSignature = "signature"
	refusedStale     = "stale"
	refusedEncrypted = "encryption"
	refusedAppID     = "appid"
	refusedMalformed = "malformed"
)

func refuse(status int, class, format string, args ...any) *refusal {
	return &refusal{status: status, class: class, reason: fmt.Sprintf(format, args...)}
}

// decoded is a verified push: what to store, and how to answer it.
type decoded struct {
	payload Payload
	key     string // dedupe key
	// answer, when set, is the handshake's own answer: nothing is stored.
	answer func(w http.ResponseWriter)
}

// platformReceiver verifies and decodes one platform's pushes.
type platformReceiver interface {
	receive(r *http.Request, body []byte) (*decoded, *refusal)
}

// Receiver serves Path for every app with events.
type Receiver struct {
	apps  map[string]platformReceiver
	store Store
	obs   Observer
	log   *slog.Logger
	// stored is called after an event is stored (wakes the processor).
	stored func()
	now    func() time.Time
}

// Option configures a Receiver or a Processor.
type Option func(*options)

type options struct {
	obs    Observer
	now    func() time.Time
	stored func()
	poll   time.Duration
	keep   time.Duration
}

// WithObserver sets the metrics observer.
func WithObserver(o Observer) Option { return func(op *options) { op.obs = o } }

// WithClock replaces time.Now (tests: the timestamp window).
func WithClock(now func() time.Time) Option { return func(op *options) { op.now = now } }

// WithStored is called after each newly stored event (the processor's
// Wake).
func WithStored(f func()) Option { return func(op *options) { op.stored = f } }

// WithPoll sets how often the processor looks for pending events when
// nothing wakes it (default DefaultPoll).
func WithPoll(d time.Duration) Option { return func(op *options) { op.poll = d } }

// WithRetention sets how long processed events are kept (default
// DefaultRetention): their keys catch re-sends until then.
func WithRetention(d time.Duration) Option { return func(op *options) { op.keep = d } }

func buildOptions(opts []Option) options {
	o := options{obs: nopObserver{}, now: time.Now, stored: func() {}, poll: DefaultPoll, keep: DefaultRetention}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// NewReceiver returns the receiver of apps (each app's platform must be
// wechat or douyin).
func NewReceiver(apps []App, store Store, log *slog.Logger, opts ...Option) (*Receiver, error) {
	o := buildOptions(opts)
	r := &Receiver{apps: map[string]platformReceiver{}, store: store, obs: o.obs, log: log, stored: o.stored, now: o.now}
	for _, a := range apps {
		switch a.Platform {
		case "wechat":
			if a.Token == "" {
				return nil, fmt.Errorf("app %s: a push token is required", a.Name)
			}
			if a.AESKey != nil && len(a.AESKey) != 32 {
				return nil, fmt.Errorf("app %s: the AES key must be 32 bytes", a.Name)
			}
			r.apps[a.Name] = &wechatReceiver{app: a, now: o.now}
		case "douyin":
			if a.Token == "" && a.Secret == "" {
				return nil, fmt.Errorf("app %s: a webhook secret or app secret is required", a.Name)
			}
			r.apps[a.Name] = &douyinReceiver{app: a}
		default:
			return nil, fmt.Errorf("app %s: %s pushes no events", a.Name, a.Platform)
		}
	}
	return r, nil
}

// Handler serves Path.
func (rc *Receiver) Handler() http.Handler {
	r := mux.NewRouter()
	r.HandleFunc(Path, rc.serve).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc(Path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, "platform events arrive by GET (WeChat's handshake) or POST")
	})
	return r
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["app"]
	p, ok := rc.apps[name]
	if !ok {
		// The name is the caller's: not a metrics label.
		writeError(w, http.StatusNotFound, "no app named "+strconv.Quote(name)+" receives platform events")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			rc.refused(w, name, refuse(http.StatusRequestEntityTooLarge, refusedMalformed, "body is over the %d-byte limit", MaxBody))
			return
		}
		rc.refused(w, name, refuse(http.StatusBadRequest, refusedMalformed, "cannot read body: %v", err))
		return
	}
	d, ref := p.receive(r, body)
	if ref != nil {
		rc.refused(w, name, ref)
		return
	}
	if d.answer != nil {
		rc.obs.Received(name, "handshake", "")
		d.answer(w)
		return
	}
	pl, err := json.Marshal(d.payload)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "cannot encode the event")
		return
	}
	e := message.Event{App: name, Platform: d.payload.Platform, Key: d.key, Name: d.payload.Event, User: d.payload.User,
		Payload: pl, ReceivedAt: rc.now()}
	stored, dup, err := rc.store.PutEvent(r.Context(), e)
	if err != nil {
		// Not stored, not acknowledged: the platform sends it again.
		rc.log.Error("platform event not stored", "app", name, "event", e.Name, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the event could not be stored; send it again")
		return
	}
	if dup {
		rc.obs.Received(name, "duplicate", "")
		rc.log.Debug("platform event re-sent", "app", name, "event", e.Name, "id", stored.ID)
	} else {
		rc.obs.Received(name, "stored", "")
		rc.log.Debug("platform event stored", "app", name, "event", e.Name, "id", stored.ID)
		rc.stored()
	}
	// "回复 success 或空字符串": the platform stops re-sending.
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "success")
}

func (rc *Receiver) refused(w http.ResponseWriter, app string, ref *refusal) {
	rc.obs.Received(app, "refused", ref.class)
	rc.log.Warn("platform event refused", "app", app, "status", ref.status, "reason", ref.reason)
	if ref.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Signature realm="minipush platform events"`)
	}
	writeError(w, ref.status, ref.reason)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"error": msg})
}

type nopObserver struct{}

func (nopObserver) Received(string, string, string) {}
func (nopObserver) Consent(string, string)          {}
func (nopObserver) Receipt(string, string)          {}
