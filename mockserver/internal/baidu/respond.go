package baidu

import (
	"encoding/json"
	"net/http"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

const contentType = "application/json"

type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

type gatewayError struct {
	ErrorCode GatewayCode `json:"error_code"`
	ErrorMsg  string      `json:"error_msg"`
}

// businessAnswer is the errno/msg/data envelope. data is {} on errors so
// that typed clients can always decode it into a struct.
type businessAnswer struct {
	Errno Errno  `json:"errno"`
	Msg   string `json:"msg"`
	Data  any    `json:"data"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// oauthFail answers an OAuth error with HTTP 400. The journal records 400
// as the errcode: OAuth errors have no number.
func oauthFail(w http.ResponseWriter, c *platform.Call, name, description string) {
	c.ErrCode = http.StatusBadRequest
	writeJSON(w, http.StatusBadRequest, oauthError{Error: name, ErrorDescription: description})
}

func gatewayFail(w http.ResponseWriter, c *platform.Call, code GatewayCode) {
	gatewayFailMsg(w, c, code, code.Message())
}

func gatewayFailMsg(w http.ResponseWriter, c *platform.Call, code GatewayCode, msg string) {
	c.ErrCode = int(code)
	writeJSON(w, http.StatusOK, gatewayError{ErrorCode: code, ErrorMsg: msg})
}

// fail answers a business error; detail, when given, follows the standard
// text (the mock's wording).
func fail(w http.ResponseWriter, c *platform.Call, n Errno, detail string) {
	msg := n.Message()
	if detail != "" {
		msg += ": " + detail
	}
	failMsg(w, c, n, msg)
}

func failMsg(w http.ResponseWriter, c *platform.Call, n Errno, msg string) {
	c.ErrCode = int(n)
	writeJSON(w, http.StatusOK, businessAnswer{Errno: n, Msg: msg, Data: struct{}{}})
}

// fault applies an injected fault; it reports whether the call is answered.
// An errcode fault answers in the gateway shape when the code is a gateway
// code or the endpoint is the token endpoint (whose OAuth errors carry no
// number; the official SDK also reads error_code there), else in the
// business shape.
func (e *Emulator) fault(w http.ResponseWriter, r *http.Request, c *platform.Call) bool {
	a, ok := e.env.Fault(r.Context(), c)
	if !ok {
		return false
	}
	if platform.Abort(w, a) {
		return true
	}
	n := *a.ErrCode
	if isGateway(n) || c.Endpoint == EndpointToken {
		msg := a.ErrMsg
		if msg == "" {
			msg = GatewayCode(n).Message()
		}
		gatewayFailMsg(w, c, GatewayCode(n), msg)
		return true
	}
	msg := a.ErrMsg
	if msg == "" {
		msg = Errno(n).Message()
	}
	failMsg(w, c, Errno(n), msg)
	return true
}

// readForm parses the query and a form body (urlencoded or multipart) into
// r.Form. The send doc uses x-www-form-urlencoded; the FAQ says form-data.
func readForm(w http.ResponseWriter, r *http.Request) error {
	return platform.ReadAnyForm(w, r, maxBodyBytes)
}
