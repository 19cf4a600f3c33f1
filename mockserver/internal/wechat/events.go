package wechat

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"

	"github.com/minipush/minipush/mockserver/internal/push"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Message push (消息推送): what WeChat POSTs to the developer's server.
// https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
// The readings chosen where the docs are silent are in docs/mock-wechat.md
// ("Pushes") and marked UNCONFIRMED here.

// Event names (the Event field of MsgType "event").
const (
	EventSubscribePopup  = "subscribe_msg_popup_event"
	EventSubscribeChange = "subscribe_msg_change_event"
	EventSubscribeSent   = "subscribe_msg_sent_event"
	EventEnterSession    = "user_enter_tempsession"
	EventMediaCheck      = "wxa_media_check"
	eventVerify          = "verify" // the journal's name for the GET handshake
)

// Message types of user messages to customer service (receive.html).
const (
	MsgTypeEvent = "event"
	MsgTypeText  = "text"
)

const (
	pushFormatXML      = mockapi.PushFormatXML
	pushFormatJSON     = mockapi.PushFormatJSON
	pushModePlain      = mockapi.PushModePlain
	pushModeCompatible = mockapi.PushModeCompatible
	pushModeSafe       = mockapi.PushModeSafe
)

// PushCodec is WeChat's side of pushing, for the push engine.
func (e *Emulator) PushCodec() push.Codec { return codec{} }

type codec struct{}

// FaultEndpoints: every push, and the sent event of each send.
func (codec) FaultEndpoints() []string { return []string{push.EndpointPush, push.EndpointSentEvent} }

// Corruptions WeChat pushes can be given on purpose.
func (codec) Corruptions() []string {
	return []string{push.CorruptSignature, push.CorruptMsgSignature, push.CorruptTimestamp,
		push.CorruptEncryption, push.CorruptAppID}
}

// CheckConfig validates the console's 消息推送 settings: URL, Token (3–32
// letters or digits), EncodingAESKey (43 characters; needed by the
// encrypted modes), format and mode.
func (codec) CheckConfig(app *store.App, in mockapi.PushConfig) (push.Config, string, error) {
	if err := push.CheckURL(in.URL); err != nil {
		return push.Config{}, "url", err
	}
	if err := checkToken(in.Token); err != nil {
		return push.Config{}, "token", err
	}
	cfg := push.Config{AppID: app.AppID, URL: in.URL, Token: in.Token, Format: in.Format, Mode: in.Mode, SentEvents: true}
	switch cfg.Format {
	case "":
		cfg.Format = pushFormatXML
	case pushFormatXML, pushFormatJSON:
	default:
		return push.Config{}, "format", fmt.Errorf("format must be xml or json, got %q", in.Format)
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = pushModePlain
	case pushModePlain, pushModeCompatible, pushModeSafe:
	default:
		return push.Config{}, "mode", fmt.Errorf("mode must be plain, compatible or safe, got %q", in.Mode)
	}
	if in.EncodingAESKey != "" {
		if _, err := pushAESKey(in.EncodingAESKey); err != nil {
			return push.Config{}, "encoding_aes_key", err
		}
		cfg.EncodingAESKey = in.EncodingAESKey
	} else if cfg.Mode != pushModePlain {
		return push.Config{}, "encoding_aes_key", fmt.Errorf("encoding_aes_key is required in %s mode", cfg.Mode)
	}
	cfg.OriginalID = in.OriginalID
	if cfg.OriginalID == "" {
		cfg.OriginalID = originalID(app.AppID)
	} else if err := checkOriginalID(cfg.OriginalID); err != nil {
		return push.Config{}, "original_id", err
	}
	if in.SentEvents != nil {
		cfg.SentEvents = *in.SentEvents
	}
	return cfg, "", nil
}

// checkToken applies the console's rule: "必须为英文或数字，长度为3-32字符".
func checkToken(t string) error {
	if t == "" {
		return errors.New("token is required: the Token of the app's message-push settings")
	}
	if len(t) < 3 || len(t) > 32 {
		return fmt.Errorf("token must be 3 to 32 characters, got %d", len(t))
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return errors.New("token must be letters and digits only")
		}
	}
	return nil
}

func checkOriginalID(id string) error {
	if !strings.HasPrefix(id, "gh_") || len(id) > 32 {
		return fmt.Errorf("original_id must look like gh_0123456789ab, got %q", id)
	}
	for _, r := range id[3:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return fmt.Errorf("original_id must look like gh_0123456789ab, got %q", id)
		}
	}
	return nil
}

// originalID derives a stable gh_ id from the app id, for apps that do not
// set one.
func originalID(appID string) string {
	sum := sha1.Sum([]byte(appID))
	return "gh_" + hex.EncodeToString(sum[:6])
}

// Encode builds one push: the body in the app's format and mode, the query
// the mode calls for (plain: signature, timestamp, nonce; encrypted modes
// add openid, encrypt_type=aes and msg_signature), timestamps by the mock
// clock.
func (codec) Encode(cfg push.Config, ev *push.Event, a push.Attempt) (*push.Request, error) {
	body := ev.Body.Prepend("ToUserName", cfg.OriginalID)
	plain, err := encodeEvent(cfg.Format, body)
	if err != nil {
		return nil, err
	}
	ts := a.Now.Unix()
	if a.Corrupt == push.CorruptTimestamp {
		ts -= 3600 // correctly signed, an hour old: a replayed push
	}
	timestamp, nonce := strconv.FormatInt(ts, 10), randomDigits(10)
	token, msgToken := cfg.Token, cfg.Token
	switch a.Corrupt {
	case push.CorruptSignature:
		token, msgToken = wrongToken(cfg.Token), wrongToken(cfg.Token)
	case push.CorruptMsgSignature:
		msgToken = wrongToken(cfg.Token)
	}
	query := [][2]string{{"signature", pushSignature(token, timestamp, nonce)}, {"timestamp", timestamp}, {"nonce", nonce}}
	out := plain
	if cfg.Mode != pushModePlain {
		key, err := pushAESKey(cfg.EncodingAESKey)
		if err != nil {
			return nil, err
		}
		appID := ev.AppID
		switch a.Corrupt {
		case push.CorruptEncryption:
			other := sha256.Sum256(key) // a key that is not the app's
			key = other[:]
		case push.CorruptAppID:
			appID = "wx" + strings.Repeat("0", 16)
		}
		random := make([]byte, 16)
		_, _ = rand.Read(random)
		encrypted, err := encryptPush(key, random, plain, appID)
		if err != nil {
			return nil, err
		}
		out, err = envelope(cfg.Format, cfg.Mode, plain, body, body.String("ToUserName"), encrypted)
		if err != nil {
			return nil, err
		}
		query = append(query, [2]string{"openid", ev.OpenID}, [2]string{"encrypt_type", "aes"},
			[2]string{"msg_signature", pushSignature(msgToken, timestamp, nonce, encrypted)})
	}
	h := http.Header{}
	// JSON pushes carry a JSON content type and XML pushes an XML one. In
	// 2018 JSON pushes were seen with text/xml (tencentyun/wafer2-startup
	// #104); today's value is UNCONFIRMED.
	if cfg.Format == pushFormatJSON {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "text/xml")
	}
	return &push.Request{Method: http.MethodPost, URL: withQuery(cfg.URL, query), Header: h, Body: out}, nil
}

// Accept: "回复 success 或空字符串" with HTTP 200. Case and surrounding
// white space are forgiven (the live-player page shows "SUCCESS");
// UNCONFIRMED.
func (codec) Accept(status int, body []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("HTTP %d: the platform wants 200 with success or an empty body", status)
	}
	if s := strings.TrimSpace(string(body)); s != "" && !strings.EqualFold(s, "success") {
		return fmt.Errorf("answer %q is neither success nor empty", clip(s, 80))
	}
	return nil
}

// Handshake is the GET the console sends when the settings are saved:
// signature, timestamp, nonce and echostr; the server must answer echostr
// itself (raw, not JSON, not encrypted) with 200.
func (codec) Handshake(cfg push.Config, a push.Attempt) (*push.Request, func(int, []byte) error, error) {
	timestamp, nonce, echostr := strconv.FormatInt(a.Now.Unix(), 10), randomDigits(10), randomDigits(19)
	token := cfg.Token
	if a.Corrupt == push.CorruptSignature {
		token = wrongToken(token)
	}
	q := [][2]string{{"signature", pushSignature(token, timestamp, nonce)}, {"timestamp", timestamp},
		{"nonce", nonce}, {"echostr", echostr}}
	check := func(status int, body []byte) error {
		if status != http.StatusOK {
			return fmt.Errorf("HTTP %d: the server must answer 200 with echostr", status)
		}
		if string(body) != echostr {
			if strings.TrimSpace(string(body)) == echostr {
				return fmt.Errorf("answer %q echoes echostr with extra white space; answer it exactly", clip(string(body), 80))
			}
			return fmt.Errorf("answer %q does not echo echostr %s", clip(string(body), 80), echostr)
		}
		return nil
	}
	return &push.Request{Method: http.MethodGet, URL: withQuery(cfg.URL, q), Header: http.Header{}, Event: eventVerify}, check, nil
}

// withQuery appends parameters in the given order (the platform's order;
// url.Values would sort them) to a URL that may already carry a query.
func withQuery(base string, q [][2]string) string {
	var b strings.Builder
	b.WriteString(base)
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			sep = ""
		}
	}
	for _, kv := range q {
		b.WriteString(sep + urlEscape(kv[0]) + "=" + urlEscape(kv[1]))
		sep = "&"
	}
	return b.String()
}

func urlEscape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D", "+", "%2B", " ", "%20", "#", "%23", "?", "%3F").Replace(s)
}

func wrongToken(t string) string { return t + "x" }

// randomDigits is a nonce or echostr as the platform writes them: digits.
func randomDigits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		if i == 0 && d.Int64() == 0 {
			d = big.NewInt(1) // no leading zero
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// eventName is the journal's name of a push: Event, or MsgType for a user
// message.
func eventName(o push.Object) string {
	if mt := o.String("MsgType"); mt != MsgTypeEvent && mt != "" {
		return mt
	}
	return o.String("Event")
}

// NewEvent returns a push of the app's to openID's server-side record:
// FromUserName, CreateTime (the mock clock, a number as live pushes carry
// it), MsgType "event", Event, then fields. ToUserName (the app's
// original id) is added when the push is encoded.
func (e *Emulator) NewEvent(appID, openID, event string, fields push.Object) push.Event {
	body := push.Object{{Name: "FromUserName", Value: openID}, {Name: "CreateTime", Value: e.env.Clock.Now().Unix()},
		{Name: "MsgType", Value: MsgTypeEvent}, {Name: "Event", Value: event}}
	body = append(body, fields...)
	return push.Event{Platform: Name, AppID: appID, Name: event, OpenID: openID, Body: body}
}

// PushEvent queues an event of the app for the developer's server (see
// NewEvent). It returns the push's id, or ok false when the app has no
// push settings. It never waits for the receiver.
func (e *Emulator) PushEvent(appID, openID, event string, fields push.Object) (id string, ok bool) {
	return e.env.Push.Enqueue(e.NewEvent(appID, openID, event, fields))
}

// list is the List of a subscribe event: an object for one item, an array
// for several — as the platform writes JSON (the XML repeats <List>).
func list(items []push.Object) any {
	if len(items) == 1 {
		return items[0]
	}
	return items
}
