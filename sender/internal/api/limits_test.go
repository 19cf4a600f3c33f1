package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// problems decodes an error answer's problems.
func problems(t *testing.T, b []byte) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return e
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func messageBody(mod func(m map[string]any)) []byte {
	m := map[string]any{"app": "shop", "to": "o_user", "template_id": "t", "data": map[string]string{"thing1": "x"}}
	mod(m)
	return jsonBody(m)
}

func broadcastBody(mod func(m map[string]any)) []byte {
	m := map[string]any{"app": "shop", "to": []string{"u1", "u2"}, "template_id": "t", "data": map[string]string{"thing1": "x"}}
	mod(m)
	return jsonBody(m)
}

// Every input limit answers 422 naming the field and the limit; values
// at the limit pass.
func TestInputLimits(t *testing.T) {
	t.Parallel()
	hs, _, _ := server(t)
	long := strings.Repeat("a", 50_000)
	manyKeys := map[string]string{}
	for i := range 33 {
		manyKeys[fmt.Sprintf("thing%d", i+1)] = "x"
	}
	manyMembers := make([]string, 1_000_001)
	for i := range manyMembers {
		manyMembers[i] = fmt.Sprintf("u%d", i)
	}
	tests := []struct {
		name, method, path string
		body               []byte
		want               int
		field, limit       string // the problem's field and a word of its message
	}{
		{"to at 128 bytes", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["to"] = strings.Repeat("o", 128) }), 202, "", ""},
		{"to of 129 bytes", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["to"] = strings.Repeat("o", 129) }), 422, "to", "128"},
		{"to of 50,000", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["to"] = long }), 422, "to", "128"},
		{"to with a newline", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["to"] = "o_us\ner" }), 422, "to", "control"},
		{"template_id of 50,000", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["template_id"] = long }), 422, "template_id", "128"},
		{"data key of 50,000", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["data"] = map[string]string{long + "1": "x"} }), 422, "data", "64"},
		{"33 data keys", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["data"] = manyKeys }), 422, "data", "32"},
		{"empty data key", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["data"] = map[string]string{"": "x"} }), 422, "data", "empty"},
		{"page of 1025", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["page"] = strings.Repeat("p", 1025) }), 422, "page", "1024"},
		{"idempotency_key of 257", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["idempotency_key"] = strings.Repeat("k", 257) }), 422, "idempotency_key", "256"},
		{"send_at in 9999", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["send_at"] = "9999-01-01T00:00:00Z" }), 422, "send_at", "365"},
		{"send_at 366 days ahead", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["send_at"] = time.Now().AddDate(0, 0, 366) }), 422, "send_at", "365"},
		{"send_at 300 days ahead", "POST", "/v1/messages", messageBody(func(m map[string]any) { m["send_at"] = time.Now().AddDate(0, 0, 300) }), 202, "", ""},
		{"broadcast recipient of 50,000", "POST", "/v1/broadcasts", broadcastBody(func(m map[string]any) { m["to"] = []string{"u1", long} }), 422, "to[1]", "128"},
		{"broadcast group of 50,000", "POST", "/v1/broadcasts", broadcastBody(func(m map[string]any) { delete(m, "to"); m["group"] = long }), 422, "group", "128"},
		{"broadcast send_at in 9999", "POST", "/v1/broadcasts", broadcastBody(func(m map[string]any) { m["send_at"] = "9999-12-31T00:00:00Z" }), 422, "send_at", "365"},
		{"group member of 50,000", "PUT", "/v1/groups/g", jsonBody(map[string]any{"app": "shop", "members": []string{long}}), 422, "members[0]", "128"},
		{"1,000,001 group members", "PUT", "/v1/groups/g", jsonBody(map[string]any{"app": "shop", "members": manyMembers}), 422, "members", "1000000"},
		{"group name of 129", "PUT", "/v1/groups/" + strings.Repeat("g", 129), jsonBody(map[string]any{"app": "shop", "members": []string{"u"}}), 400, "name", "128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, b := do(t, hs, tt.method, tt.path, "Bearer "+key, tt.body)
			wellFormed(t, code, b, tt.want)
			if tt.field == "" {
				return
			}
			for _, p := range problems(t, b).Problems {
				if p.Field == tt.field && strings.Contains(p.Message, tt.limit) {
					return
				}
			}
			t.Fatalf("no problem names %s and %q: %s", tt.field, tt.limit, b)
		})
	}
}

// A wrong method answers 405 with Allow listing the right ones (GET
// implies HEAD).
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	hs, _, _ := server(t)
	for _, tt := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/messages", "GET, HEAD, POST"},
		{"POST", "/v1/messages/msg_1", "GET, HEAD"},
		{"GET", "/v1/messages/msg_1/retry", "POST"},
		{"DELETE", "/v1/broadcasts", "GET, HEAD, POST"},
		{"PATCH", "/v1/groups/g", "DELETE, GET, HEAD, PUT"},
		{"POST", "/healthz", "GET, HEAD"},
		{"PUT", "/readyz", "GET, HEAD"},
	} {
		req, _ := http.NewRequest(tt.method, hs.URL+tt.path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Allow"), tt.allow)
		}
	}
}

// JSON bodies must come as application/json (parameters allowed).
func TestContentTypeRequired(t *testing.T) {
	t.Parallel()
	hs, _, _ := server(t)
	bodies := map[string]string{"/v1/messages": string(messageBody(func(map[string]any) {})),
		"/v1/broadcasts": string(broadcastBody(func(map[string]any) {})), "/v1/groups/g": `{"app":"shop","members":["u"]}`}
	for ct, want := range map[string]int{
		"":                                  http.StatusUnsupportedMediaType,
		"text/plain":                        http.StatusUnsupportedMediaType,
		"application/x-www-form-urlencoded": http.StatusUnsupportedMediaType,
		"application/jsonp":                 http.StatusUnsupportedMediaType,
		"application/json":                  http.StatusAccepted,
		"Application/JSON; charset=utf-8":   http.StatusAccepted,
	} {
		for _, path := range []string{"/v1/messages", "/v1/broadcasts", "/v1/groups/g"} {
			method, b := http.MethodPost, bodies[path]
			if path == "/v1/groups/g" {
				method = http.MethodPut
			}
			req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+key)
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := hs.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.StatusCode; (want == 415) != (got == 415) || (want != 415 && got >= 300) {
				t.Errorf("%s %s with Content-Type %q: %d, want %d", method, path, ct, got, want)
			}
		}
	}
}

// A value of the wrong type is named by its JSON path.
func TestTypeErrorsNameThePath(t *testing.T) {
	t.Parallel()
	hs, _, _ := server(t)
	for _, tt := range []struct{ method, path, body, field, message string }{
		{"POST", "/v1/messages", `{"app":"shop","to":"u","template_id":"t","data":{"thing1":5}}`, "data.thing1", "data.thing1: want string, got number"},
		{"POST", "/v1/messages", `{"app":"shop","to":["u"]}`, "to", "to: want string, got array"},
		{"POST", "/v1/broadcasts", `{"app":"shop","to":["a",3]}`, "to[1]", "to[1]: want string, got number"},
		{"PUT", "/v1/groups/g", `{"app":"shop","members":["a","b",{"c":1}]}`, "members[2]", "members[2]: want string, got object"},
		{"POST", "/v1/messages", `{"app":"shop","colour":"red"}`, "colour", `unknown field "colour"`},
	} {
		code, b := do(t, hs, tt.method, tt.path, "Bearer "+key, []byte(tt.body))
		wellFormed(t, code, b, http.StatusBadRequest)
		ps := problems(t, b).Problems
		if len(ps) != 1 || ps[0].Field != tt.field || ps[0].Message != tt.message {
			t.Errorf("%s: problems %+v, want %s %q", tt.body, ps, tt.field, tt.message)
		}
	}
}

// A bad query or path parameter answers 400 naming it.
func TestBadParametersAre400(t *testing.T) {
	t.Parallel()
	hs, _, _ := server(t)
	for _, tt := range []struct{ method, path, field string }{
		{"GET", "/v1/messages?limit=x", "limit"},
		{"GET", "/v1/messages?limit=1001", "limit"},
		{"GET", "/v1/messages?limit=", "limit"}, // the API document refuses an empty value (FuzzPathAndQuery)
		{"GET", "/v1/broadcasts?limit", "limit"},
		{"GET", "/v1/schedules?limit=", "limit"},
		{"GET", "/v1/webhooks/deliveries?limit=", "limit"},
		{"GET", "/v1/groups/g?app=shop&limit=", "limit"},
		{"GET", "/v1/messages?status=lost", "status"},
		{"GET", "/v1/messages?stauts=failed", "stauts"},
		{"GET", "/v1/messages?status=failed&status=queued", "status"},
		{"GET", "/v1/messages?app=nope", "app"},
		{"GET", "/v1/messages?cursor=%zz", "cursor"},
		{"GET", "/v1/messages?reason=bored", "reason"},
		{"GET", "/v1/messages?to=a%01b", "to"},
		{"GET", "/v1/messages?to=" + strings.Repeat("u", 300), "to"},
		{"GET", "/v1/messages?created_from=yesterday", "created_from"},
		{"GET", "/v1/messages?created_to=2026-01-02", "created_to"},
		{"GET", "/v1/messages?created_from=2026-01-02T00:00:00+08:00", "created_from"}, // an unencoded + is a space
		{"GET", "/v1/messages?created_from=2026-01-02T00:00:00Z&created_to=2026-01-01T00:00:00Z", "created_to"},
		{"GET", "/v1/messages?cursor=" + strings.Repeat("c", 600), "cursor"},
		{"GET", "/v1/messages/" + strings.Repeat("m", 65), "id"},
		{"GET", "/v1/messages/msg%20bad", "id"},
		{"POST", "/v1/messages/bad%21id/retry", "id"},
		{"GET", "/v1/broadcasts/bc;1", "id"},
		{"GET", "/v1/messages/msg_1?verbose=1", "verbose"},
		{"GET", "/v1/groups/g", "app"},
		{"GET", "/v1/groups/g?app=nope", "app"},
		{"DELETE", "/v1/groups/g?app=shop&force=1", "force"},
		{"GET", "/v1/groups/g%01x?app=shop", "name"},
		{"POST", "/v1/messages?dry_run=1", "dry_run"},
	} {
		code, b := do(t, hs, tt.method, tt.path, "Bearer "+key, nil)
		wellFormed(t, code, b, http.StatusBadRequest)
		if ps := problems(t, b).Problems; len(ps) == 0 || ps[0].Field != tt.field {
			t.Errorf("%s %s: problems %+v, want %s named", tt.method, tt.path, ps, tt.field)
		}
	}
	// A well-formed id that does not exist is still 404.
	code, b := do(t, hs, "GET", "/v1/messages/msg_0123456789abcdef", "Bearer "+key, nil)
	wellFormed(t, code, b, http.StatusNotFound)
}
