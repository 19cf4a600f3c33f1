package controlapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// bodyRoutes are the control calls that decode a JSON body.
var bodyRoutes = []struct{ method, path string }{
	{http.MethodPost, "/_mock/apps"},
	{http.MethodPost, "/_mock/users"},
	{http.MethodPost, "/_mock/templates"},
	{http.MethodPost, "/_mock/grants"},
	{http.MethodPost, "/_mock/faults"},
	{http.MethodPost, "/_mock/clock"},
	{http.MethodPut, "/_mock/content-rules"},
	{http.MethodPut, "/_mock/quotas"},
	{http.MethodPut, "/_mock/apps/push"},
	{http.MethodPost, "/_mock/pushes/verify"},
	{http.MethodPost, "/_mock/popups"},
	{http.MethodPost, "/_mock/events"},
}

// fuzzServer is a mock with the test app seeded, served without a
// listener so that fuzzing is fast. Its pushes go nowhere: a fuzzed push
// URL must never reach the network.
func fuzzServer(f *testing.F) http.Handler {
	app := demoApp(1)
	app.Push = &mockapi.PushConfig{URL: "http://127.0.0.1:1/push", Token: "fuzzToken", Format: "xml", Mode: "safe",
		EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}
	dy := mockapi.App{Platform: "douyin", AppID: "ttfuzz", Secret: "s", Push: &mockapi.PushConfig{URL: "http://127.0.0.1:1/dy"},
		Templates: []mockapi.Template{{TemplateID: "MSG1", Keywords: []string{"名称"}}}}
	s, err := mockserver.New(mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{app, dy}}),
		mockserver.WithPushTransport(noNetwork{}))
	if err != nil {
		f.Fatal(err)
	}
	return s.Handler()
}

// noNetwork refuses every push.
type noNetwork struct{}

func (noNetwork) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("the fuzz tests' pushes go nowhere")
}

// checkControlAnswer holds a control answer to the contract: never a 5xx,
// 204 without a body, anything else a JSON document served as JSON, and a
// 4xx in the {"error","field"} shape.
func checkControlAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: status %d: %s", what, rec.Code, rec.Body)
	}
	if rec.Code == http.StatusNoContent {
		if rec.Body.Len() != 0 {
			t.Fatalf("%s: 204 with a body", what)
		}
		return
	}
	mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	if mt != "application/json" || !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("%s: status %d, not JSON (%q): %s", what, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if rec.Code >= 400 {
		var e mockapi.Error
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
			t.Fatalf("%s: error answer %d without an error text: %s", what, rec.Code, rec.Body)
		}
	}
}

func FuzzControlAPI(f *testing.F) {
	seeds := map[string][]string{
		"/_mock/apps": {
			`{"platform":"wechat","app_id":"wx1","secret":"s"}`,
			`{"platform":"douyin","app_id":"tt1","secret":"s","push":{"url":"http://127.0.0.1:1/","token":"tok"}}`,
			`{"platform":"wechat","app_id":"wx2","secret":"s","push":{"url":"http://127.0.0.1:1/","token":"tok123","mode":"compatible","encoding_aes_key":"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}}`,
			`{"platform":"wechat","app_id":"wx1","secret":"s","users":["o"],"templates":[{"template_id":"t","keywords":["thing1"]}],"grants":[{"openid":"o","template_id":"t","count":1}],"quotas":[{"endpoint":"token","limit":1,"per":"day"}],"pages":["a?b=1"]}`,
		},
		"/_mock/users":         {`{"platform":"wechat","app_id":"` + appID + `","openid":"o"}`},
		"/_mock/templates":     {`{"platform":"wechat","app_id":"` + appID + `","template_id":"t","title":"x","keywords":["thing1","enum2"],"enums":{"enum2":["a"]},"type":"long_term"}`},
		"/_mock/grants":        {`{"platform":"wechat","app_id":"` + appID + `","openid":"o","template_id":"` + tmplID + `","count":2}`, `{"platform":"wechat","app_id":"` + appID + `","openid":"o","template_id":"` + tmplID + `","long_term":true}`},
		"/_mock/faults":        {`{"platform":"wechat","endpoint":"token","errcode":-1,"times":1,"probability":0.5,"seed":3}`, `{"platform":"wechat","endpoint":"*","latency":"300ms","drop":true}`},
		"/_mock/clock":         {`{"advance":"2h"}`, `{"set":"2030-01-01T00:00:00+08:00"}`, `{"advance":1e12}`},
		"/_mock/content-rules": {`{"risky":["a",{"word":"b","label":20001}],"review":[{"word":"c"}]}`},
		"/_mock/quotas":        {`{"platform":"wechat","app_id":"` + appID + `","endpoint":"token","limit":1,"per":"minute"}`},
		"/_mock/apps/push": {
			`{"platform":"wechat","app_id":"` + appID + `","push":{"url":"http://127.0.0.1:1/x","token":"tok123","encoding_aes_key":"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG","format":"json","mode":"safe","original_id":"gh_abc","sent_events":false}}`,
			`{"platform":"wechat","app_id":"` + appID + `","push":null}`,
		},
		"/_mock/pushes/verify": {`{"platform":"wechat","app_id":"` + appID + `"}`},
		"/_mock/popups": {
			`{"platform":"wechat","app_id":"` + appID + `","openid":"o","accept":["` + tmplID + `"],"times":2}`,
			`{"platform":"douyin","app_id":"ttfuzz","openid":"o","reject":["MSG1"]}`,
		},
		"/_mock/events": {
			`{"platform":"wechat","app_id":"` + appID + `","event":{"FromUserName":"o","MsgType":"event","Event":"subscribe_msg_popup_event","List":[{"TemplateId":"` + tmplID + `","SubscribeStatusString":"accept","PopupScene":"0"}]}}`,
			`{"platform":"wechat","app_id":"` + appID + `","event":{"FromUserName":"o","MsgType":"text","Content":"a]]>b","MsgId":123}}`,
			`{"platform":"wechat","app_id":"` + appID + `","event":{"FromUserName":"o","MsgType":"event","Event":"subscribe_msg_change_event","SubscribeMsgChangeEvent":{"List":{"TemplateId":"` + tmplID + `","SubscribeStatusString":"reject"}}}}`,
			`{"platform":"douyin","app_id":"ttfuzz","event":{"event":"user_subscribe_action","from_user_id":"o","content":{"msg_id":"MSG1","time":1,"subscribe_action":2}}}`,
			`{"platform":"douyin","app_id":"ttfuzz","event":{"event":"x","content":"{\"a\":1}"}}`,
		},
	}
	for i, r := range bodyRoutes {
		for _, s := range seeds[r.path] {
			f.Add(uint8(i), []byte(s))
		}
	}
	for _, s := range []string{"", "null", "[]", "{", `{"a":1}`, `{} {}`, `"x"`, "\x00", `{"platform":null}`} {
		f.Add(uint8(0), []byte(s))
	}
	h := fuzzServer(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := bodyRoutes[int(route)%len(bodyRoutes)]
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(r.method, r.path, bytes.NewReader(body)))
		checkControlAnswer(t, r.method+" "+r.path, rec)
	})
}

// queryRoutes are the control calls that read a query string.
var queryRoutes = []struct{ method, path string }{
	{http.MethodGet, "/_mock/messages"},
	{http.MethodGet, "/_mock/requests"},
	{http.MethodGet, "/_mock/templates"},
	{http.MethodGet, "/_mock/grants"},
	{http.MethodDelete, "/_mock/grants"},
	{http.MethodGet, "/_mock/quotas"},
	{http.MethodDelete, "/_mock/quotas/usage"},
	{http.MethodDelete, "/_mock/faults/x"},
	{http.MethodGet, "/_mock/pushes"},
}

func FuzzControlQuery(f *testing.F) {
	for i, q := range []string{
		"platform=wechat&app_id=" + appID + "&openid=o&template_id=t&min=2&offset=1&limit=3",
		"errcode=40003&endpoint=token",
		"platform=wechat&app_id=" + appID,
		"platform=wechat&app_id=" + appID + "&openid=" + openID + "&template_id=" + tmplID,
		"min=-1&limit=x", "%zz", "platform=&app_id=",
		"platform=wechat&event=subscribe_msg_sent_event&outcome=delivered&id=p1&openid=o",
	} {
		f.Add(uint8(i), q)
	}
	h := fuzzServer(f)
	f.Fuzz(func(t *testing.T, route uint8, query string) {
		r := queryRoutes[int(route)%len(queryRoutes)]
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Skip()
		}
		// A wait blocks for real; the wait tests cover it.
		q.Del("wait")
		req := httptest.NewRequest(r.method, r.path, nil)
		req.URL.RawQuery = q.Encode()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkControlAnswer(t, r.method+" "+r.path+"?"+req.URL.RawQuery, rec)
	})
}
