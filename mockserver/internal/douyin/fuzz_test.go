package douyin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// The fuzz targets drive the handler in process (no sockets) so each run
// is fast. A "{{TOKEN}}" in a fuzzed body is replaced by a live token so the
// fuzzer reaches the decoders behind the token check.

type fuzzServer struct {
	h      http.Handler
	access string
	client string
}

func newFuzzServer(f *testing.F) *fuzzServer {
	mk := mocktest.Start(f, mockserver.WithSeed(baseSeed()))
	s := &fuzzServer{h: mk.Server.Handler()}
	var tok struct {
		Data struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
	}
	rec := s.call(f, pathToken, `{"appid":"`+appA+`","secret":"`+secretA+`","grant_type":"client_credential"}`)
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.Data.AccessToken == "" {
		f.Fatalf("token: %s", rec.Body)
	}
	s.access = tok.Data.AccessToken
	rec = s.call(f, pathClientToken, `{"client_key":"`+appA+`","client_secret":"`+secretA+`","grant_type":"client_credential"}`)
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.Data.AccessToken == "" {
		f.Fatalf("client token: %s", rec.Body)
	}
	s.client = tok.Data.AccessToken
	return s
}

func (s *fuzzServer) call(t testing.TB, path, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	body = strings.ReplaceAll(body, "{{TOKEN}}", s.access)
	body = strings.ReplaceAll(body, "{{CLIENT}}", s.client)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// wellFormed checks any answer: no 500, a JSON object, no secret, and the
// fields that identify the platform's shape (want is a list of alternatives,
// each a list of top-level keys that must all be present).
func wellFormed(t *testing.T, rec *httptest.ResponseRecorder, allowed []int, want ...[]string) {
	t.Helper()
	body := rec.Body.Bytes()
	if rec.Code == http.StatusInternalServerError {
		t.Fatalf("500: %s", body)
	}
	ok := false
	for _, s := range allowed {
		ok = ok || rec.Code == s
	}
	if !ok {
		t.Fatalf("status %d not one of %v: %s", rec.Code, allowed, body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q: %s", ct, body)
	}
	for _, s := range secrets {
		if bytes.Contains(body, []byte(s)) {
			t.Fatalf("answer leaks a secret: %s", body)
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, body)
	}
	for _, keys := range want {
		all := true
		for _, k := range keys {
			_, has := obj[k]
			all = all && has
		}
		if all {
			return
		}
	}
	t.Fatalf("answer lacks the platform's fields %v: %s", want, body)
}

func FuzzNotifyV1(f *testing.F) {
	s := newFuzzServer(f)
	for _, seed := range []string{
		`{"access_token":"{{TOKEN}}","app_id":"` + appA + `","tpl_id":"` + tmplA + `","open_id":"` + userA + `","data":{"物品名称":"a","购买金额":"1","number3":2},"page":"pages/index"}`,
		`{"access_token":"{{TOKEN}}","app_id":"` + appA + `","tpl_id":"` + tmplA + `","open_id":"` + userA + `","data":{"物品名称":{"value":null},"购买金额":[1],"number3":1e400}}`,
		`{"access_token":"{{TOKEN}}","app_id":"` + appA + `","tpl_id":"` + tmplLong + `","open_id":"` + userA + `","data":{"预约项目":"\u0000\ud800"}}`,
		`{"access_token":"{{CLIENT}}"}`,
		`{"access_token":1}`,
		`[]`, `null`, `"x"`, ``, `{`, `{"data":{"":""}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		rec := s.call(t, pathNotifyV1, body)
		wellFormed(t, rec, []int{http.StatusOK}, []string{"err_no", "err_tips"})
	})
}

func FuzzNotifyV2(f *testing.F) {
	s := newFuzzServer(f)
	for _, seed := range []string{
		`{"msg_id":"` + tmplA + `","open_id":"` + userA + `","data":{"物品名称":"a","购买金额":"1","number3":"2"},"notify_type":[1,2],"page":"p"}`,
		`{"msg_id":"` + tmplA + `","open_id":"` + userA + `","data":{"物品名称":{"value":"a"},"购买金额":{"value":1},"number3":{}}}`,
		`{"msg_id":1,"open_id":null,"data":[],"notify_type":["1"]}`,
		`{"notify_type":[99999999999999999999]}`,
		`[]`, `null`, ``, `{"data":{"x":{"value":{"value":"y"}}}}`,
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, body string, withToken bool) {
		tok := "clt.nope"
		if withToken {
			tok = s.client
		}
		rec := s.call(t, pathNotifyV2, body, "access-token", tok)
		wellFormed(t, rec, []int{http.StatusOK}, []string{"err_no", "err_msg", "log_id"})
	})
}

func FuzzToken(f *testing.F) {
	s := newFuzzServer(f)
	paths := []string{pathToken, pathStableToken, pathClientToken, pathStableClient}
	for _, seed := range []string{
		`{"appid":"` + appA + `","secret":"` + secretA + `","grant_type":"client_credential"}`,
		`{"appid":"` + appA + `","secret":"` + secretA + `","grant_type":"client_credential","force_refresh":true}`,
		`{"client_key":"` + appA + `","client_secret":"` + secretA + `","grant_type":"client_credential"}`,
		`{"appid":"` + appA + `","secret":"wrong","grant_type":"client_credential"}`,
		`{"force_refresh":"yes"}`, `[]`, `null`, ``, `{"appid":`,
	} {
		for i := range paths {
			f.Add(seed, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		path := paths[int(which)%len(paths)]
		rec := s.call(t, path, body)
		if strings.HasPrefix(path, "/oauth/") {
			wellFormed(t, rec, []int{http.StatusOK}, []string{"data", "message"})
			return
		}
		wellFormed(t, rec, []int{http.StatusOK}, []string{"err_no", "err_tips", "data"})
	})
}

func FuzzAntidirt(f *testing.F) {
	s := newFuzzServer(f)
	for _, seed := range []string{
		`{"tasks":[{"content":"你好"},{"content":"` + riskyText + `"}]}`,
		`{"tasks":[{"content":null},{}]}`,
		`{"tasks":{}}`, `{"tasks":[1,2]}`, `[]`, `null`, ``, `{"tasks":[{"content":"\ud800"}]}`,
		`{"app_id":"` + appA + `","content":["a","b"]}`,
		`{"app_id":"` + appA + `","content":[1]}`,
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, body string, censor bool) {
		if censor {
			rec := s.call(t, pathCensor, body, "access-token", s.client)
			wellFormed(t, rec, []int{http.StatusOK}, []string{"err_no", "err_msg", "log_id"})
			return
		}
		rec := s.call(t, pathAntidirt, body, "X-Token", s.access)
		wellFormed(t, rec, []int{http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized},
			[]string{"log_id", "data"}, []string{"error_id", "code", "message", "exception"})
	})
}
