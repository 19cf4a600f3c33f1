package wechat

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// contentType is what api.weixin.qq.com has been observed to send; clients
// ignore it (docs/platforms/wechat.md).
const contentType = "application/json; encoding=utf-8"

type errorBody struct {
	ErrCode ErrCode `json:"errcode"`
	ErrMsg  string  `json:"errmsg"`
}

// newRID is a request id as WeChat appends it to every errmsg: three hex
// words, the first the Unix time of the call.
func (e *Emulator) newRID() string {
	return fmt.Sprintf("%08x-%08x-%08x", uint32(e.env.Clock.Now().Unix()), rand.Uint32(), rand.Uint32())
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", contentType)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// fail answers code with its standard errmsg (plus detail, if any).
func (e *Emulator) fail(w http.ResponseWriter, c *platform.Call, code ErrCode, detail string) {
	msg := code.Message()
	if detail != "" {
		msg += " " + detail
	}
	e.failMsg(w, c, code, msg)
}

func (e *Emulator) failMsg(w http.ResponseWriter, c *platform.Call, code ErrCode, msg string) {
	c.ErrCode = int(code)
	if code != CodeOK {
		rid := e.newRID()
		msg += " rid: " + rid
		if tw, ok := w.(*tracedWriter); ok {
			tw.rid = rid // openapi/rid/get can then tell about this call
		}
	}
	writeJSON(w, errorBody{ErrCode: code, ErrMsg: msg})
}

// fault applies an injected fault; it reports whether the call is answered.
func (e *Emulator) fault(w http.ResponseWriter, r *http.Request, c *platform.Call) bool {
	a, ok := e.env.Fault(r.Context(), c)
	if !ok {
		return false
	}
	if platform.Abort(w, a) {
		return true
	}
	code := ErrCode(*a.ErrCode)
	msg := a.ErrMsg
	if msg == "" {
		msg = code.Message()
	}
	e.failMsg(w, c, code, msg)
	return true
}
