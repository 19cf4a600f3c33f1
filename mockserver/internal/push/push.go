// Package push is the mock's outbound push engine: what the platforms send
// to the developer's server. It keeps each app's push settings, a bounded
// queue and a bounded number of deliveries in flight per app, delivers with
// the platforms' timeout and re-sends, runs the URL-verification handshake,
// and journals every attempt. Pushes never block the platform APIs: an
// emulation hands an Event to Enqueue and goes on answering.
//
// What goes on the wire is each platform's business: a Codec per platform
// (the WeChat and Douyin emulations) validates settings, encodes events and
// handshakes, and judges the receiver's answer.
package push

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Fault endpoints: faults that name them act on pushes instead of platform
// calls. A fault for endpoint "*" never matches them.
const (
	// EndpointPush is every push of an app (and its handshakes): drop,
	// latency or corrupt.
	EndpointPush = "push"
	// EndpointSentEvent is WeChat's subscribe_msg_sent_event after a send:
	// errcode makes it report that ErrorCode (errmsg its ErrorStatus), drop
	// suppresses it.
	EndpointSentEvent = "push_sent_event"
)

// Corruptions a push fault can ask for; each Codec lists those it knows.
const (
	CorruptSignature    = "signature"     // the signature is computed with a wrong secret
	CorruptMsgSignature = "msg_signature" // only msg_signature is wrong (WeChat encrypted modes)
	CorruptTimestamp    = "timestamp"     // correctly signed, but an hour old (a replay)
	CorruptEncryption   = "encryption"    // Encrypt does not decrypt with the app's key
	CorruptAppID        = "appid"         // Encrypt decrypts, but names another app
)

// Config is one app's validated push settings.
type Config struct {
	AppID          string
	URL            string
	Token          string
	EncodingAESKey string
	Format         string
	Mode           string
	OriginalID     string
	SentEvents     bool
	// Secret signs the pushes where the platform signs with a secret of
	// its own choosing (Douyin: Token when set, else the app secret).
	Secret string
	// Signer names Secret's origin for the control API ("token", "app_secret").
	Signer string
}

// Info is what the control API may show: no secret, only whether one is set.
func (c Config) Info() *mockapi.PushInfo {
	return &mockapi.PushInfo{URL: c.URL, Format: c.Format, Mode: c.Mode, OriginalID: c.OriginalID,
		TokenSet: c.Token != "", EncodingAESKeySet: c.EncodingAESKey != "", SentEvents: c.SentEvents, Signer: c.Signer}
}

// Event is one push to deliver.
type Event struct {
	Platform string
	AppID    string
	// Name is the event's name for the journal and its filters.
	Name   string
	OpenID string
	// Body is the event in the platform's own field names and order; the
	// codec encodes it in the app's format and mode.
	Body Object
}

// Attempt is what a codec needs to know about one delivery attempt.
type Attempt struct {
	// Now is the mock clock: timestamps on the wire follow it.
	Now time.Time
	// Number counts re-sends: 0 is the first try.
	Number int
	// ID names the push across its attempts; Key is a random id of the
	// push, also stable across attempts (Douyin's Msg-Id).
	ID, Key string
	// Corrupt is the corruption a push fault asks for ("" none).
	Corrupt string
}

// Request is an HTTP request a codec builds.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Event names a handshake in the journal ("verify", "verify_webhook").
	Event string
}

// Codec is one platform's side of pushing.
type Codec interface {
	// CheckConfig validates an app's push settings, naming the bad field
	// (relative to "push").
	CheckConfig(app *store.App, in mockapi.PushConfig) (cfg Config, field string, err error)
	// Encode builds the request for one attempt of ev.
	Encode(cfg Config, ev *Event, a Attempt) (*Request, error)
	// Accept judges the receiver's answer to a push: nil means delivered.
	Accept(status int, body []byte) error
	// Handshake builds the URL-verification request and the check of its
	// answer.
	Handshake(cfg Config, a Attempt) (*Request, func(status int, body []byte) error, error)
	// FaultEndpoints lists the push endpoints faults can target.
	FaultEndpoints() []string
	// Corruptions lists the corruptions a push fault may ask for.
	Corruptions() []string
}

// ErrNoPush is answered for a platform that pushes nothing.
var ErrNoPush = errors.New("this platform pushes nothing to developer servers")

// CheckURL checks a push URL: absolute http or https, with a host, without
// user:password (a secret that would then show in answers and the journal).
func CheckURL(s string) error {
	if s == "" {
		return errors.New("url is required: where the platform pushes events (your server's push endpoint)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("url is not a URL: %v", unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url must start with http:// or https://")
	}
	if u.Host == "" {
		return fmt.Errorf("url has no host")
	}
	if u.User != nil {
		return fmt.Errorf("url must not carry user:password")
	}
	if u.Fragment != "" {
		return fmt.Errorf("url must not have a #fragment")
	}
	return nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
