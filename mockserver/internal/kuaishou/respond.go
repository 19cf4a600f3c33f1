package kuaishou

import (
	"encoding/json"
	"net/http"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

const contentType = "application/json;charset=UTF-8"

// errorBody is Kuaishou's error shape: result ≠ 1 with error_msg (what the
// public SDKs read) and error (what some client code reads); both are sent.
type errorBody struct {
	Result   Result `json:"result"`
	Error    string `json:"error"`
	ErrorMsg string `json:"error_msg"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", contentType)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// fail answers code with its standard text, plus detail when given. The
// journal records the result code; success is recorded as 0 so that
// "errcode 0 = ok" holds across platforms.
func fail(w http.ResponseWriter, c *platform.Call, code Result, detail string) {
	msg := code.Message()
	if detail != "" {
		msg += ": " + detail
	}
	failMsg(w, c, code, msg)
}

func failMsg(w http.ResponseWriter, c *platform.Call, code Result, msg string) {
	c.ErrCode = int(code)
	if code == ResultOK {
		c.ErrCode = 0
	}
	writeJSON(w, errorBody{Result: code, Error: code.ErrorName(), ErrorMsg: msg})
}

// fault applies an injected fault; it reports whether the call is answered.
// An errcode fault answers {"result":N,"error","error_msg"}.
func (e *Emulator) fault(w http.ResponseWriter, r *http.Request, c *platform.Call) bool {
	a, ok := e.env.Fault(r.Context(), c)
	if !ok {
		return false
	}
	if platform.Abort(w, a) {
		return true
	}
	code := Result(*a.ErrCode)
	msg := a.ErrMsg
	if msg == "" {
		msg = code.Message()
	}
	failMsg(w, c, code, msg)
	return true
}

// readForm parses the query and the body into r.Form. Kuaishou documents
// x-www-form-urlencoded; multipart is accepted too, as PHP-style clients
// send it. Body values win over query values, and either may carry
// app_id/access_token (the SDKs put them in both places).
func readForm(w http.ResponseWriter, r *http.Request) error {
	return platform.ReadAnyForm(w, r, maxBodyBytes)
}
