package controlapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/openapitest"
	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/internal/controlapi/openapi"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// Names used across the tests.
const (
	appID    = "wxcontrol00000001"
	secret   = "control-secret"
	openID   = "o_control_user"
	tmplID   = "tmpl-order"
	wechat   = mockapi.PlatformWeChat
	testWait = 5 * time.Second
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// answer is one raw HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// call makes a raw HTTP call. body is sent as is when it is a string,
// marshalled as JSON otherwise (nil: no body).
func call(t *testing.T, m *mocktest.Mock, method, path string, body any) answer {
	t.Helper()
	a, err := tryCall(ctx(t), m, method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// tryCall is call for goroutines other than the test's, which must not
// call t.Fatal.
func tryCall(c context.Context, m *mocktest.Mock, method, path string, body any) (answer, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return answer{}, err
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(c, method, m.URL+path, r)
	if err != nil {
		return answer{}, err
	}
	if r != nil {
		// As clients send it (the mock reads a body as JSON whatever
		// its Content-Type, but the document describes JSON).
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := m.Control.HTTP.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// isJSON reports whether the answer is a JSON document served as JSON.
func (a answer) isJSON() bool {
	mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type"))
	return mt == "application/json" && json.Valid(a.body)
}

// expect checks the status and, for 4xx answers, that the body is the
// control API's error shape naming field.
func (a answer) expect(t *testing.T, status int, field string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body %s", a.status, status, a.body)
	}
	if status == http.StatusNoContent {
		if len(a.body) != 0 {
			t.Fatalf("204 with a body: %s", a.body)
		}
		return
	}
	if !a.isJSON() {
		t.Fatalf("answer is not JSON (%s): %s", a.header.Get("Content-Type"), a.body)
	}
	if status < 400 {
		return
	}
	var e mockapi.Error
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error == "" {
		t.Fatalf("error answer without an error text: %s", a.body)
	}
	if e.Field != field {
		t.Fatalf("error names field %q, want %q: %s", e.Field, field, a.body)
	}
}

// decodeInto decodes the answer's JSON body.
func (a answer) decodeInto(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

// demoApp is an app with one user (openID), one template (tmplID:
// thing1, time2, character_string3) and count one-time grants.
func demoApp(count int) mockapi.App {
	a := mockapi.App{
		Platform: wechat, AppID: appID, Secret: secret, Users: []string{openID},
		Templates: []mockapi.Template{{TemplateID: tmplID, Title: "订单通知",
			Keywords: []string{"thing1", "time2", "character_string3"}}},
	}
	if count > 0 {
		a.Grants = []mockapi.Grant{{OpenID: openID, TemplateID: tmplID, Count: count}}
	}
	return a
}

// start runs a mock until the test ends, with every control call the
// test makes through m.Control.HTTP checked against the control API's
// document (openapi/control.yaml): a mismatch fails the test.
func start(t *testing.T, opts ...mockserver.Option) *mocktest.Mock {
	t.Helper()
	m := mocktest.Start(t, opts...)
	c, err := openapitest.New(t, openapi.Document().YAML(), openapitest.Scope(openapi.InScope))
	if err != nil {
		t.Fatal(err)
	}
	m.Control.HTTP.Transport = c.Transport(m.Control.HTTP.Transport)
	return m
}

// startSeeded starts a mock whose seed holds demoApp(count).
func startSeeded(t *testing.T, count int, opts ...mockserver.Option) *mocktest.Mock {
	t.Helper()
	opts = append([]mockserver.Option{mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{demoApp(count)}})}, opts...)
	return start(t, opts...)
}

// token fetches a WeChat access token from the mock.
func token(t *testing.T, m *mocktest.Mock, app, sec string) string {
	t.Helper()
	q := url.Values{"grant_type": {"client_credential"}, "appid": {app}, "secret": {sec}}
	a := call(t, m, http.MethodGet, "/cgi-bin/token?"+q.Encode(), nil)
	var out struct {
		AccessToken string `json:"access_token"`
		ErrCode     int    `json:"errcode"`
	}
	a.decodeInto(t, &out)
	if out.AccessToken == "" {
		t.Fatalf("no token (errcode %d): %s", out.ErrCode, a.body)
	}
	return out.AccessToken
}

// sendResult is a WeChat subscribe-send answer.
type sendResult struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	MsgID   int64  `json:"msgid"`
}

// send posts a subscribe message with valid data for template.
func send(t *testing.T, m *mocktest.Mock, tok, to, template, thing string) sendResult {
	t.Helper()
	r, err := trySend(ctx(t), m, tok, to, template, thing)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// trySend is send for other goroutines: a refused send is an error too.
func trySend(c context.Context, m *mocktest.Mock, tok, to, template, thing string) (sendResult, error) {
	body := map[string]any{
		"touser": to, "template_id": template, "page": "pages/index/index",
		"data": map[string]any{
			"thing1":            map[string]string{"value": thing},
			"time2":             map[string]string{"value": "2026-03-01 10:00"},
			"character_string3": map[string]string{"value": "SF123"},
		},
	}
	a, err := tryCall(c, m, http.MethodPost, "/cgi-bin/message/subscribe/send?access_token="+url.QueryEscape(tok), body)
	if err != nil {
		return sendResult{}, err
	}
	var r sendResult
	if err := json.Unmarshal(a.body, &r); err != nil {
		return r, fmt.Errorf("send answer %s: %w", a.body, err)
	}
	return r, nil
}
