package douyin

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/minipush/minipush/mockserver/internal/push"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Webhooks: what Douyin POSTs to the developer's server.
// https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/tutorial/basic-ability/webhook
// https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/webhooks/summarize
//   - JSON only, Content-Type application/json, never encrypted.
//   - X-Douyin-Signature = hex(SHA-1(secret ‖ raw body)); Msg-Id, the same
//     on every re-send, for de-duplication.
//   - Body {"event","client_key","from_user_id","content"}; content is a
//     JSON object written as a string.
//   - "连接超过 5s 会自动断开，共重试 3 次".
//   - Saving the URL POSTs {"event":"verify_webhook","client_key":…,
//     "content":{"challenge":N}} (content an object here, challenge a
//     number); the server answers {"challenge":N}.
//
// Which secret signs is UNCONFIRMED: the webhook pages say the app's
// client secret (the doc's Go sample; fudiwei/DotNetCore.SKIT's
// VerifyEventSignature), but the mini-app page says enabling webhooks
// issues a separate "webhook 验签秘钥". The mock signs with push.token when
// it is set (that separate secret) and with the app secret otherwise.

// Event names.
const (
	EventSubscribeAction = "user_subscribe_action"
	eventVerify          = "verify_webhook"
)

// Subscribe actions of user_subscribe_action (subscription-status-push-event).
const (
	ActionNone           = 0 // no subscription ("预期不会出现")
	ActionOneTime        = 1 // one-time subscription
	ActionLongTerm       = 2 // long-term subscription
	ActionLongTermReject = 3 // long-term rejection
	ActionOneTimeReject  = 4 // one-time rejection
)

// PushCodec is Douyin's side of pushing, for the push engine.
func (e *Emulator) PushCodec() push.Codec { return codec{} }

type codec struct{}

// FaultEndpoints: every webhook push.
func (codec) FaultEndpoints() []string { return []string{push.EndpointPush} }

// Corruptions: a webhook carries one signature and no encryption.
func (codec) Corruptions() []string { return []string{push.CorruptSignature} }

// Signers of the webhook signature.
const (
	signerToken     = "token"
	signerAppSecret = "app_secret"
)

// CheckConfig validates the webhook settings: the URL, and optionally the
// webhook signing secret as token. Format, mode and EncodingAESKey do not
// exist on Douyin.
func (codec) CheckConfig(app *store.App, in mockapi.PushConfig) (push.Config, string, error) {
	if err := push.CheckURL(in.URL); err != nil {
		return push.Config{}, "url", err
	}
	switch {
	case in.Format != "" && in.Format != mockapi.PushFormatJSON:
		return push.Config{}, "format", fmt.Errorf("douyin pushes JSON only, got format %q", in.Format)
	case in.Mode != "" && in.Mode != mockapi.PushModePlain:
		return push.Config{}, "mode", fmt.Errorf("douyin webhooks are signed, not encrypted: mode must be plain, got %q", in.Mode)
	case in.EncodingAESKey != "":
		return push.Config{}, "encoding_aes_key", errors.New("douyin webhooks have no EncodingAESKey")
	case in.OriginalID != "":
		return push.Config{}, "original_id", errors.New("original_id is WeChat's; douyin has none")
	case in.SentEvents != nil:
		return push.Config{}, "sent_events", errors.New("sent_events is WeChat's subscribe_msg_sent_event; douyin has none")
	}
	cfg := push.Config{AppID: app.AppID, URL: in.URL, Format: mockapi.PushFormatJSON, Mode: mockapi.PushModePlain,
		Token: in.Token, Secret: in.Token, Signer: signerToken}
	if in.Token == "" {
		cfg.Secret, cfg.Signer = app.Secret, signerAppSecret
	} else if len(in.Token) > 128 || strings.IndexFunc(in.Token, unicode.IsSpace) >= 0 {
		return push.Config{}, "token", errors.New("token (the webhook signing secret) must be at most 128 characters without spaces")
	}
	return cfg, "", nil
}

// signature is X-Douyin-Signature.
func signature(secret string, body []byte) string {
	h := sha1.New()
	h.Write([]byte(secret))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Encode signs the body and sets Msg-Id.
func (codec) Encode(cfg push.Config, ev *push.Event, a push.Attempt) (*push.Request, error) {
	body, err := ev.Body.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return &push.Request{Method: http.MethodPost, URL: cfg.URL, Header: signedHeader(cfg, body, a, a.Key), Body: body}, nil
}

func signedHeader(cfg push.Config, body []byte, a push.Attempt, msgID string) http.Header {
	secret := cfg.Secret
	if a.Corrupt == push.CorruptSignature {
		secret += "x"
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Douyin-Signature", signature(secret, body))
	h.Set("Msg-Id", msgID)
	return h
}

// Accept: HTTP 200. What body Douyin expects for events is undocumented
// (UNCONFIRMED); any is accepted.
func (codec) Accept(status int, _ []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("HTTP %d: the platform wants 200", status)
	}
	return nil
}

// Handshake is verify_webhook: the server must answer {"challenge":N}
// with the same number.
func (codec) Handshake(cfg push.Config, a push.Attempt) (*push.Request, func(int, []byte) error, error) {
	challenge := 10000 + rand.Int64N(90_000_000)
	body, err := push.Object{{Name: "event", Value: eventVerify}, {Name: "client_key", Value: cfg.AppID},
		{Name: "content", Value: push.Object{{Name: "challenge", Value: challenge}}}}.MarshalJSON()
	if err != nil {
		return nil, nil, err
	}
	check := func(status int, answer []byte) error {
		if status != http.StatusOK {
			return fmt.Errorf("HTTP %d: the server must answer 200 with {\"challenge\":%d}", status, challenge)
		}
		var got struct {
			Challenge json.Number `json:"challenge"`
		}
		dec := json.NewDecoder(bytes.NewReader(answer))
		dec.UseNumber()
		if err := dec.Decode(&got); err != nil {
			return fmt.Errorf("answer %q is not the JSON {\"challenge\":%d}", clip(string(answer), 80), challenge)
		}
		if n, err := strconv.ParseInt(got.Challenge.String(), 10, 64); err != nil || n != challenge {
			return fmt.Errorf("answer %q does not echo challenge %d", clip(string(answer), 80), challenge)
		}
		return nil
	}
	return &push.Request{Method: http.MethodPost, URL: cfg.URL, Header: signedHeader(cfg, body, a, a.Key),
		Body: body, Event: eventVerify}, check, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// NewEvent returns a webhook push of the app for openID: event,
// client_key, from_user_id, and content written as a JSON string.
func (e *Emulator) NewEvent(appID, openID, event string, content push.Object) (push.Event, error) {
	c, err := content.MarshalJSON()
	if err != nil {
		return push.Event{}, err
	}
	body := push.Object{{Name: "event", Value: event}, {Name: "client_key", Value: appID},
		{Name: "from_user_id", Value: openID}, {Name: "content", Value: string(c)}}
	return push.Event{Platform: Name, AppID: appID, Name: event, OpenID: openID, Body: body}, nil
}

// subscribeAction is user_subscribe_action for one template, as the
// doc's example writes it: content {"msg_id","time","subscribe_action"}.
func (e *Emulator) subscribeAction(appID, openID, templateID string, action int) push.Event {
	ev, _ := e.NewEvent(appID, openID, EventSubscribeAction, push.Object{
		{Name: "msg_id", Value: templateID}, {Name: "time", Value: e.env.Clock.Now().Unix()},
		{Name: "subscribe_action", Value: action}})
	return ev // the content is strings and numbers: it always encodes
}
