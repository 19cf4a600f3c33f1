package events

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"
)

// wechatReceiver verifies and decodes one WeChat app's pushes
// (https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html).
type wechatReceiver struct {
	app App
	now func() time.Time
}

// Query parameters WeChat signs and sends.
const (
	maxQueryValue = 128 // signatures are 40, timestamps 10, nonces ~10, echostr ~20
)

func (wr *wechatReceiver) receive(r *http.Request, body []byte) (*decoded, *refusal) {
	q := r.URL.Query()
	for _, k := range []string{"signature", "timestamp", "nonce", "echostr", "msg_signature", "encrypt_type", "openid"} {
		if len(q.Get(k)) > maxQueryValue {
			return nil, refuse(http.StatusBadRequest, refusedMalformed, "query parameter %s is longer than %d characters", k, maxQueryValue)
		}
	}
	signature, timestamp, nonce := q.Get("signature"), q.Get("timestamp"), q.Get("nonce")
	if signature == "" || timestamp == "" || nonce == "" {
		return nil, refuse(http.StatusUnauthorized, refusedSignature,
			"signature, timestamp and nonce are required: WeChat signs every push with the app's Token")
	}
	if !signatureMatches(signature, wechatSignature(wr.app.Token, timestamp, nonce)) {
		return nil, refuse(http.StatusUnauthorized, refusedSignature,
			"signature does not verify with this app's push Token")
	}
	if r.Method == http.MethodGet {
		return wr.handshake(q.Get("echostr"))
	}
	// The signature covers the timestamp, so a push captured on the way
	// cannot be replayed outside the window (WeChat documents none: the
	// window is ours, events.max_age).
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, refusedMalformed, "timestamp %q is not Unix seconds", timestamp)
	}
	if age := wr.now().Sub(time.Unix(ts, 0)); age > wr.app.MaxAge || age < -wr.app.MaxAge {
		return nil, refuse(http.StatusUnauthorized, refusedStale,
			"timestamp %d is %s from the sender's clock, beyond the %s window: a stale or replayed push", ts,
			age.Round(time.Second), wr.app.MaxAge)
	}
	env, ref := decodeWeChatEnvelope(body)
	if ref != nil {
		return nil, ref
	}
	plain := body
	switch et := q.Get("encrypt_type"); {
	case et == "" && wr.app.AESKey != nil:
		return nil, refuse(http.StatusUnauthorized, refusedEncrypted,
			"the push is not encrypted, and this app has an encoding_aes_key: only the compatible and safe modes are accepted")
	case et == "":
	case et != "aes":
		return nil, refuse(http.StatusBadRequest, refusedEncrypted, "encrypt_type %q is unknown (WeChat sends aes)", et)
	case wr.app.AESKey == nil:
		return nil, refuse(http.StatusBadRequest, refusedEncrypted,
			"the push is encrypted, and this app has no encoding_aes_key: configure events.encoding_aes_key")
	default:
		if env.encrypt == "" {
			return nil, refuse(http.StatusBadRequest, refusedEncrypted, "encrypt_type is aes, and the body has no Encrypt field")
		}
		ms := q.Get("msg_signature")
		if ms == "" {
			return nil, refuse(http.StatusUnauthorized, refusedSignature, "msg_signature is required on an encrypted push")
		}
		if !signatureMatches(ms, wechatSignature(wr.app.Token, timestamp, nonce, env.encrypt)) {
			return nil, refuse(http.StatusUnauthorized, refusedSignature, "msg_signature does not verify with this app's push Token")
		}
		msg, appID, err := wechatDecrypt(wr.app.AESKey, env.encrypt)
		if err != nil {
			return nil, refuse(http.StatusBadRequest, refusedEncrypted, "%v", err)
		}
		if appID != wr.app.AppID {
			return nil, refuse(http.StatusUnauthorized, refusedAppID,
				"the encrypted push names app %s, not this app (%s)", clip(appID, 40), wr.app.AppID)
		}
		// Compatible mode carries the plain fields as well; what counts is
		// what the signature and the key vouch for.
		plain = msg
	}
	p, ref := decodeWeChatEvent(plain)
	if ref != nil {
		return nil, ref
	}
	return &decoded{payload: p, key: wechatKey(p)}, nil
}

// handshake answers the console's URL check: the echostr itself, raw.
func (wr *wechatReceiver) handshake(echostr string) (*decoded, *refusal) {
	if echostr == "" {
		return nil, refuse(http.StatusBadRequest, refusedMalformed,
			"echostr is required: the GET is the console's URL check, and its answer is the echostr")
	}
	return &decoded{answer: func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, echostr)
	}}, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:n]) + "…"
}

// sniff reports whether body is XML (else JSON): the content type is not
// to be trusted — in 2018 JSON pushes came as text/xml
// (tencentyun/wafer2-startup#104).
func sniff(body []byte) (xml bool) {
	b := bytes.TrimLeft(body, " \t\r\n\ufeff")
	return len(b) > 0 && b[0] == '<'
}
