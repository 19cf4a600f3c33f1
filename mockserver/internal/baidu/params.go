package baidu

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
)

// readParams gathers a call's parameters from everywhere Baidu's clients
// put them: the doc's curl examples send them in the query (templatedel's
// even with GET), the official Go SDK (baidu/smartapp-openapi-go) in a
// urlencoded form body, SKIT-Baidu in the query plus a JSON body. The
// query is read first; a form or JSON body adds to it and wins for a name
// both carry. A JSON body's strings are taken as they are, numbers and
// booleans as written, arrays and objects as their JSON text
// (keyword_id_list may arrive as [1,2,3]). It returns false when the body
// cannot be read as its Content-Type says.
func readParams(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	out := url.Values{}
	for k, v := range r.URL.Query() {
		out[k] = v
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			return out, false
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return out, true
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return out, false
		}
		for k, raw := range obj {
			if v, ok := jsonParam(raw); ok {
				out.Set(k, v)
			}
		}
		return out, true
	}
	if err := readForm(w, r); err != nil {
		return out, false
	}
	for k, v := range r.PostForm {
		out[k] = v
	}
	return out, true
}

// jsonParam turns a JSON value into a parameter's text; null is absent.
func jsonParam(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", false
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
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
