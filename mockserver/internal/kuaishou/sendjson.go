package kuaishou

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// JSON or form for template/send? The doc
// (https://mp.kuaishou.com/docs/develop/server/sendMessage.html) says
// application/x-www-form-urlencoded with data a JSON-encoded string, and
// every client found sends a form (surpaimb/kuaishou
// src/MiniProgram/SubscribeMessage/Client.php and others). Nothing shows the
// platform refusing JSON, and Kuaishou's sibling epay APIs do take JSON
// bodies with app_id/access_token in the query. The decision: the form is
// the documented way and is always accepted; a JSON body
// (Content-Type: application/json) is accepted too (UNCONFIRMED), with the
// same fields, data either a JSON object or the JSON string the form
// carries. Credentials may still come in the query; a body value wins.

var errBody = errors.New("malformed body")

// readSendParams gathers the send's parameters from the query and the
// body: a urlencoded or multipart form (readForm), or a JSON object.
func readSendParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt := platform.MediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		err := readForm(w, r)
		return r.Form, err
	}
	out := url.Values{}
	for k, v := range r.URL.Query() {
		out[k] = v
	}
	body, err := platform.ReadBody(w, r, maxBodyBytes)
	if err != nil {
		return out, errBody
	}
	obj, _ := platform.RawObject(body)
	if obj == nil {
		return out, errBody
	}
	for k, raw := range obj {
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) == 0 || string(raw) == "null":
		case raw[0] == '"':
			s, ok := platform.JSONString(raw)
			if !ok {
				return out, errBody
			}
			out.Set(k, s)
		default:
			// data as an object; numbers and the like as written.
			out.Set(k, string(raw))
		}
	}
	return out, nil
}
