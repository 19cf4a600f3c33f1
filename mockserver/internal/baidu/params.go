package baidu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
)

// admit runs what every /rest/2.0/ API checks once the caller is known
// (c.AppID, c.OpenID set): faults, then the token (gw, from checkToken), the
// app, the HTTP method (one of methods), the body (bodyErr) and the
// endpoint's quota. It returns the app when the call may proceed.
func (e *Emulator) admit(w http.ResponseWriter, r *http.Request, c *platform.Call, gw GatewayCode, bodyErr error,
	endpoint string, methods ...string) (*store.App, bool) {
	if e.fault(w, r, c) {
		return nil, false
	}
	if gw != 0 {
		gatewayFail(w, c, gw)
		return nil, false
	}
	app, ok := e.env.Store.App(Name, c.AppID)
	switch {
	case !ok: // the app was removed after the token was issued
		gatewayFail(w, c, GatewayTokenInvalid)
		return nil, false
	case !slices.Contains(methods, r.Method):
		fail(w, c, ErrnoParam, "method "+r.Method+" not allowed, use "+strings.Join(methods, " or "))
		return nil, false
	case bodyErr != nil:
		fail(w, c, ErrnoParam, "malformed body")
		return nil, false
	}
	if l, ok := e.env.Take(app, endpoint); !ok {
		gatewayFail(w, c, quotaCode(l))
		return nil, false
	}
	return app, true
}

// readParams gathers a call's parameters from everywhere Baidu's clients
// put them: the doc's curl examples send them in the query (templatedel's
// even with GET), the official Go SDK (baidu/smartapp-openapi-go) in a
// urlencoded form body, SKIT-Baidu in the query plus a JSON body. The
// query is read first; a form or JSON body adds to it and wins for a name
// both carry. A JSON body's strings are taken as they are, numbers and
// booleans as written, arrays and objects as their JSON text
// (keyword_id_list may arrive as [1,2,3]). It fails when the body cannot
// be read as its Content-Type says.
func readParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	out := url.Values{}
	for k, v := range r.URL.Query() {
		out[k] = v
	}
	mt := platform.MediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		body, err := platform.ReadBody(w, r, maxBodyBytes)
		if err != nil {
			return out, err
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return out, nil
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return out, err
		}
		for k, raw := range obj {
			if v, ok := jsonParam(raw); ok {
				out.Set(k, v)
			}
		}
		return out, nil
	}
	if err := readForm(w, r); err != nil {
		return out, err
	}
	for k, v := range r.PostForm {
		out[k] = v
	}
	return out, nil
}

// jsonParam turns a JSON value into a parameter's text; null is absent.
func jsonParam(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", false
	case raw[0] == '"':
		return platform.JSONString(raw)
	}
	return string(raw), true
}

// intParam reads an optional non-negative integer parameter within
// [0, max]; missing is def.
func intParam(p url.Values, name string, def, max int) (int, bool) {
	s := p.Get(name)
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > max {
		return 0, false
	}
	return n, true
}
