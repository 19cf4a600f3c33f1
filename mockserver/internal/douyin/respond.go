package douyin

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"net/http"

	"github.com/minipush/minipush/mockserver/internal/clock"
	"github.com/minipush/minipush/mockserver/internal/platform"
)

const contentType = "application/json; charset=utf-8"

// family is an answer shape. Douyin's APIs grew on three hosts and answer
// errors in five shapes (docs/platforms/douyin.md); every failure is
// written in the shape of the API that fails.
type family int

const (
	famToken       family = iota // /api/apps/v2/token, stable_token: {"err_no","err_tips","data":{…}}
	famClientToken               // /oauth/client_token/: {"data":{…,"error_code"},"message"}
	famNotifyV1                  // v1 notify: {"err_no","err_tips"}
	famOpen                      // open.douyin.com: {"err_no","err_msg","log_id"}
	famAntidirt                  // antidirt: {"error_id","code","message","exception"}
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// logID looks like Douyin's: the Beijing time of the call to the second and
// 20 upper-case hex digits ("202008121419360101980821035705926A").
func (e *Emulator) logID() string {
	const upperHex = "0123456789ABCDEF"
	var buf [34]byte
	b := e.env.Clock.Now().In(clock.Beijing).AppendFormat(buf[:0], "20060102150405")
	x, y := rand.Uint64(), rand.Uint32()
	for i := range 10 {
		c := byte(x >> (8 * i))
		if i >= 8 {
			c = byte(y >> (8 * (i - 8)))
		}
		b = append(b, upperHex[c>>4], upperHex[c&15])
	}
	return string(b)
}

// errorID is the antidirt gateway's error_id: 32 hex digits.
func errorID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return hex.EncodeToString(b[:])
}

type tokenData struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

type tokenAnswer struct {
	ErrNo   ErrNo     `json:"err_no"`
	ErrTips string    `json:"err_tips"`
	Data    tokenData `json:"data"`
}

type clientTokenError struct {
	Captcha     string `json:"captcha"`
	DescURL     string `json:"desc_url"`
	Description string `json:"description"`
	ErrorCode   ErrNo  `json:"error_code"`
}

type clientTokenAnswer struct {
	Data    any    `json:"data"`
	Message string `json:"message"`
}

type v1Answer struct {
	ErrNo   ErrNo  `json:"err_no"`
	ErrTips string `json:"err_tips"`
}

// okV1Answer is writeJSON's bytes for v1's success, made once.
var okV1Answer = platform.EncodeJSON(v1Answer{ErrNo: CodeOK})

// okV2Answer is writeJSON's bytes for notify_user's success, made once
// around its log id.
var okV2Answer = platform.NewTextAnswer(func(logID string) []byte {
	return platform.EncodeJSON(openAnswer{ErrNo: CodeOK, ErrMsg: "", LogID: logID})
})

type openAnswer struct {
	ErrNo  ErrNo  `json:"err_no"`
	ErrMsg string `json:"err_msg"`
	LogID  string `json:"log_id"`
	Data   any    `json:"data,omitempty"`
}

type antidirtError struct {
	ErrorID   string `json:"error_id"`
	Code      ErrNo  `json:"code"`
	Message   string `json:"message"`
	Exception string `json:"exception"`
}

// fail answers code in fam's shape with the code's standard text.
func (e *Emulator) fail(w http.ResponseWriter, c *platform.Call, fam family, code ErrNo) {
	e.failMsg(w, c, fam, code, code.Message())
}

// failMsg answers code in fam's shape with msg. Only antidirt errors leave
// HTTP 200 (its gateway-style body suggests the HTTP status follows the
// code; UNCONFIRMED).
func (e *Emulator) failMsg(w http.ResponseWriter, c *platform.Call, fam family, code ErrNo, msg string) {
	c.ErrCode = int(code)
	switch fam {
	case famToken:
		writeJSON(w, http.StatusOK, tokenAnswer{ErrNo: code, ErrTips: msg})
	case famClientToken:
		// The value of "message" on error is UNCONFIRMED (the archived
		// example is cut off); "error" is the likeliest.
		writeJSON(w, http.StatusOK, clientTokenAnswer{
			Data: clientTokenError{Description: msg, ErrorCode: code}, Message: "error"})
	case famNotifyV1:
		writeJSON(w, http.StatusOK, v1Answer{ErrNo: code, ErrTips: msg})
	case famOpen:
		writeJSON(w, http.StatusOK, openAnswer{ErrNo: code, ErrMsg: msg, LogID: e.logID()})
	case famAntidirt:
		status := http.StatusOK
		if code >= 400 && code <= 599 {
			status = int(code)
		}
		writeJSON(w, status, antidirtError{ErrorID: errorID(), Code: code, Message: msg, Exception: msg})
	}
}

// fault applies an injected fault; it reports whether the call is answered.
// An errcode fault answers in fam's shape.
func (e *Emulator) fault(w http.ResponseWriter, r *http.Request, c *platform.Call, fam family) bool {
	a, ok := e.env.Fault(r.Context(), c)
	if !ok {
		return false
	}
	if platform.Abort(w, a) {
		return true
	}
	code := ErrNo(*a.ErrCode)
	msg := a.ErrMsg
	if msg == "" {
		msg = code.Message()
	}
	e.failMsg(w, c, fam, code, msg)
	return true
}

// maxBodyBytes bounds every request body: larger bodies are bad parameters.
const maxBodyBytes = 1 << 20

// readJSON reads a JSON body into v. It reports false when the body is
// empty, too large or not JSON of the right shape. Fields decoded before a
// type error stay set, so a caller can still learn who called.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := platform.ReadBody(w, r, maxBodyBytes)
	if err != nil {
		return false
	}
	return decodeJSON(body, v)
}

func decodeJSON(body []byte, v any) bool {
	if len(bytes.TrimSpace(body)) == 0 {
		return false
	}
	if fb, ok := v.(flatBody); ok && platform.DecodeFlat(body, fb.flatFields()) {
		return true // the common shape, read in one pass (encoding/json's result)
	}
	return json.Unmarshal(body, v) == nil
}

// flatBody is a request struct that platform.DecodeFlat can fill: every
// one of its JSON fields listed (tested by platform.FlatFieldsMatch).
type flatBody interface{ flatFields() []platform.FlatField }
