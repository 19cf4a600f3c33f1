package wechat_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// fuzzServer is a mock served in-process (no listener: fast) with app A
// seeded as in start, a long-term grant and a fresh normal token.
type fuzzServer struct {
	h   http.Handler
	tok string
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	s := baseSeed()
	s.Apps[0].Pages = []string{"pages/index/index"}
	s.Apps[0].Grants = []mockapi.Grant{{OpenID: userA, TemplateID: tmplA, LongTerm: true}}
	srv, err := mockserver.New(mockserver.WithSeed(s))
	if err != nil {
		f.Fatal(err)
	}
	fs := &fuzzServer{h: srv.Handler()}
	rec := fs.serve(http.MethodGet, tokenPath("client_credential", appA, secretA), nil)
	var ans struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || ans.AccessToken == "" {
		f.Fatalf("token: %v %s", err, rec.Body)
	}
	fs.tok = ans.AccessToken
	return fs
}

func (fs *fuzzServer) serve(method, path string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	fs.h.ServeHTTP(rec, req)
	return rec
}

// checkAnswer holds an answer to the platform's shape: HTTP 200, one JSON
// object, an integer errcode — or, for a token endpoint's success, the
// token without an errcode, as WeChat sends it. No secret in it.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, tokenEndpoint bool) {
	t.Helper()
	body := rec.Body.Bytes()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, body)
	}
	for _, s := range secrets {
		if bytes.Contains(body, []byte(s)) {
			t.Fatalf("answer leaks a secret: %s", body)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil || fields == nil {
		t.Fatalf("answer is not a JSON object (%v): %s", err, body)
	}
	if dec.More() {
		t.Fatalf("answer has trailing data: %s", body)
	}
	code, has := fields["errcode"]
	if !has {
		if tokenEndpoint {
			if tok, _ := fields["access_token"].(string); tok != "" {
				if _, ok := fields["expires_in"].(json.Number); ok {
					return
				}
			}
		}
		t.Fatalf("answer has no errcode: %s", body)
	}
	n, ok := code.(json.Number)
	if !ok {
		t.Fatalf("errcode is %T: %s", code, body)
	}
	if _, err := n.Int64(); err != nil {
		t.Fatalf("errcode %q is not an integer: %s", n, body)
	}
	if msg, _ := fields["errmsg"].(string); msg == "" {
		t.Fatalf("answer has no errmsg: %s", body)
	}
}

func FuzzSubscribeSend(f *testing.F) {
	fs := newFuzzServer(f)
	good, _ := json.Marshal(goodMsg())
	f.Add(good)
	f.Add([]byte(`{"touser":"` + userA + `","template_id":"` + tmplA + `","page":"pages/index/index?x=1","data":` +
		`{"thing1":{"value":"a","color":""},"time2":{"value":"15:01~16:00"},"amount3":{"value":"100元"},"number4":{"value":1e3}},` +
		`"miniprogram_state":"","lang":""}`))
	f.Add([]byte(`{"touser":"` + userA + `","template_id":"` + tmplA + `","data":{"thing1":{"value":null},"x":{}}}`))
	f.Add([]byte(`{"touser":"` + userA + `","template_id":"` + tmplA + `","data":{"thing1":"s","time2":[],"amount3":{"value":{}}}}`))
	f.Add([]byte(`{"data":{"thing1":{"value":"` + strings.Repeat("长", 30) + `"}}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Add([]byte("{\"touser\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, fs.serve(http.MethodPost, sendPath(fs.tok), body), false)
	})
}

func FuzzStableToken(f *testing.F) {
	fs := newFuzzServer(f)
	for _, b := range []stableBody{
		{GrantType: "client_credential", AppID: appA, Secret: secretA},
		{GrantType: "client_credential", AppID: appA, Secret: secretA, ForceRefresh: true},
		{GrantType: "client_credential", AppID: appA, Secret: "x"},
		{GrantType: "client_credential", AppID: "", Secret: ""},
	} {
		raw, _ := json.Marshal(b)
		f.Add(raw)
	}
	f.Add([]byte(`{"grant_type":"client_credential","appid":"` + appA + `","secret":"` + secretA + `","force_refresh":"yes"}`))
	f.Add([]byte(`{"grant_type":1}`))
	f.Add([]byte(`{`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, fs.serve(http.MethodPost, "/cgi-bin/stable_token", body), true)
	})
}

func FuzzMsgSecCheck(f *testing.F) {
	fs := newFuzzServer(f)
	f.Add([]byte(`{"content":"hello"}`))
	f.Add([]byte(`{"content":"` + officialRisky[0] + `"}`))
	f.Add([]byte(`{"content":"hi","version":2,"scene":1,"openid":"` + userA + `","title":"t","nickname":"n","signature":"s"}`))
	f.Add([]byte(`{"content":"hi","version":"2","scene":9,"openid":"` + userA + `"}`))
	f.Add([]byte(`{"content":"hi","version":3}`))
	f.Add([]byte(`{"content":"","version":2,"scene":1e9}`))
	f.Add([]byte(`{"content":["x"]}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, fs.serve(http.MethodPost, secPath(fs.tok), body), false)
	})
}

func FuzzAddTemplate(f *testing.F) {
	fs := newFuzzServer(f)
	path := "/wxaapi/newtmpl/addtemplate?access_token=" + url.QueryEscape(fs.tok)
	f.Add([]byte(`{"tid":"99","kidList":[1,2],"sceneDesc":"付款"}`))
	f.Add([]byte(`{"tid":1432,"kidList":[1,2,3,4,5],"sceneDesc":""}`))
	f.Add([]byte(`{"tid":1e300,"kidList":[1,2]}`))
	f.Add([]byte(`{"tid":-1,"kidList":[-1,9223372036854775807]}`))
	f.Add([]byte(`{"tid":true,"kidList":null,"sceneDesc":1}`))
	f.Add([]byte(`{"tid":"99","kidList":[1,1]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, fs.serve(http.MethodPost, path, body), false)
	})
}
