package wechat

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// Every JSON field of a body read by platform.DecodeFlat is listed, so the
// one-pass read fills what encoding/json would.
func TestFlatBodiesListEveryField(t *testing.T) {
	var send sendRequest
	if err := platform.FlatFieldsMatch(&send, send.flatFields()); err != nil {
		t.Errorf("sendRequest: %v", err)
	}
	// The flat readings of kefu and updatable bodies: every field listed,
	// and the same JSON names as the request they stand for.
	var kefu kefuFlat
	if err := platform.FlatFieldsMatch(&kefu, kefu.flatFields()); err != nil {
		t.Errorf("kefuFlat: %v", err)
	}
	var upd updatableFlat
	if err := platform.FlatFieldsMatch(&upd, upd.flatFields()); err != nil {
		t.Errorf("updatableFlat: %v", err)
	}
	for _, p := range [][2]any{{kefuFlat{}, kefuRequest{}}, {updatableFlat{}, updatableRequest{}}} {
		if a, b := jsonNames(p[0]), jsonNames(p[1]); !slices.Equal(a, b) {
			t.Errorf("%T names %v, %T names %v", p[0], a, p[1], b)
		}
	}
}

func jsonNames(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

var kefuSeeds = []string{
	`{"touser":"o-bench-kefu-0000000000000001","msgtype":"text","text":{"content":"您好，您的订单已发货，预计明天送达。"}}`,
	`{"touser":"u","msgtype":"text","text":{}}`, `{"touser":"u","msgtype":"text","text":null}`,
	`{"touser":"u","msgtype":"text","text":{"content":null}}`, `{"touser":"u","msgtype":"text","text":{"content":1}}`,
	`{"touser":"u","msgtype":"text","text":{"Content":"a"}}`, `{"touser":"u","msgtype":"text","text":{"content":"a","x":1}}`,
	`{"touser":"u","msgtype":"text","text":{"content":"a","content":"b"}}`, `{"touser":"u","text":{"content":"a\\n\u00e9"}}`,
	`{"touser":"u","msgtype":"image","image":{"media_id":"m"}}`, `{"msgtype":"link","link":{"title":"t"}}`,
	`{"msgtype":"miniprogrampage","miniprogrampage":{"title":"t"}}`, `{"image":null}`, `{"text":[]}`, `{"text":"x"}`,
	`{"TEXT":{"content":"a"}}`, `{"text":{"content":"a"},"text":{"content":"b"}}`, `{}`, ``, `null`, `[]`, `{"touser":1}`,
	`{"touser":"u"} x`, `{"text":{"content":"a"}`, ` {"msgtype" : "text" , "text" : { "content" : "a" } } `,
}

// kefuMatches holds decodeKefu to decodeJSON (encoding/json) on in; it
// reports whether the one-pass reading took it.
func kefuMatches(t *testing.T, in string) bool {
	t.Helper()
	var want, got kefuRequest
	wantCode := decodeJSON([]byte(in), &want)
	gotCode := decodeKefu([]byte(in), &got)
	if gotCode != wantCode || (wantCode == CodeOK && !reflect.DeepEqual(got, want)) {
		t.Fatalf("decodeKefu(%q) = %v %+v; encoding/json: %v %+v", in, gotCode, got, wantCode, want)
	}
	var f kefuFlat
	if !platform.DecodeFlat([]byte(in), f.flatFields()) || f.Image != nil || f.Link != nil || f.Page != nil {
		return false
	}
	_, plain := kefuTextOf(f.Text)
	return plain
}

func TestDecodeKefuMatchesEncodingJSON(t *testing.T) {
	for _, in := range kefuSeeds {
		kefuMatches(t, in)
	}
	for _, in := range []string{kefuSeeds[0], kefuSeeds[1], kefuSeeds[3], kefuSeeds[len(kefuSeeds)-1]} {
		if !kefuMatches(t, in) {
			t.Errorf("decodeKefu(%q) left the usual body to encoding/json", in)
		}
	}
}

// FuzzKefuBody holds decodeKefu to encoding/json's result on any bytes:
//
//	go test -run '^$' -fuzz FuzzKefuBody -fuzztime 30s ./mockserver/internal/wechat/
func FuzzKefuBody(f *testing.F) {
	for _, s := range kefuSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) { kefuMatches(t, in) })
}

var updatableSeeds = []string{
	`{"activity_id":"966_abc","target_state":0,"template_info":{"parameter_list":[{"name":"member_count","value":"3"},{"name":"room_limit","value":"10"}]}}`,
	`{"activity_id":"a","target_state":1,"template_info":{"parameter_list":[{"name":"path","value":"pages/a"},{"name":"version_type","value":"release"}]}}`,
	`{"activity_id":"a"}`, `{"activity_id":"a","template_info":null}`, `{"template_info":{}}`, `{"template_info":{"parameter_list":null}}`,
	`{"template_info":{"parameter_list":[]}}`, `{"template_info":{"parameter_list":[null]}}`, `{"template_info":{"parameter_list":[1]}}`,
	`{"template_info":{"parameter_list":[{}]}}`, `{"template_info":{"parameter_list":[{"name":"a"}]}}`,
	`{"template_info":{"parameter_list":[{"value":"a"}]}}`, `{"template_info":{"parameter_list":[{"name":null,"value":"a"}]}}`,
	`{"template_info":{"parameter_list":[{"name":"a","value":null}]}}`, `{"template_info":{"parameter_list":[{"name":"a","value":3}]}}`,
	`{"template_info":{"parameter_list":[{"name":1,"value":"3"}]}}`, `{"template_info":{"parameter_list":[{"Name":"a","value":"3"}]}}`,
	`{"template_info":{"parameter_list":[{"name":"a","value":"1"},{"name":"a","value":"2"}]}}`,
	`{"template_info":{"parameter_list":[{"name":"a","name":"b","value":"1"}]}}`, `{"template_info":{"Parameter_List":[]}}`,
	`{"template_info":{"parameter_list":[],"x":1}}`, `{"template_info":{"parameter_list":{}}}`, `{"template_info":[]}`,
	`{"template_info":"x"}`, `{"template_info":{"parameter_list":[{"name":"a","value":"\u0041"}]}}`,
	`{"template_info":{"parameter_list":[],"parameter_list":[{"name":"a","value":"b"}]}}`, `{"target_state":"0"}`,
	`{"target_state":null}`, `{"target_state":2}`, `{"activity_id":1}`, `{}`, ``, `[]`, `null`, `{"activity_id":"a"`,
}

// updatableMatches holds decodeUpdatable to decodeUpdatableJSON
// (encoding/json) on in; it reports whether the one-pass reading took it.
func updatableMatches(t *testing.T, in string) bool {
	t.Helper()
	wantReq, wantParams, wantCode := decodeUpdatableJSON([]byte(in))
	gotReq, gotParams, gotCode := decodeUpdatable([]byte(in))
	if gotCode != wantCode {
		t.Fatalf("decodeUpdatable(%q) = %v; encoding/json: %v", in, gotCode, wantCode)
	}
	if wantCode != CodeOK {
		return false
	}
	same := gotReq.ActivityID == wantReq.ActivityID && string(gotReq.TargetState) == string(wantReq.TargetState) &&
		(gotReq.TargetState == nil) == (wantReq.TargetState == nil) && (gotReq.TemplateInfo == nil) == (wantReq.TemplateInfo == nil) &&
		maps.Equal(gotParams, wantParams) && (gotParams == nil) == (wantParams == nil)
	if same && wantReq.TemplateInfo != nil {
		g, w := gotReq.TemplateInfo.ParameterList, wantReq.TemplateInfo.ParameterList
		same = (g == nil) == (w == nil) && slices.EqualFunc(g, w, func(a, b json.RawMessage) bool { return string(a) == string(b) })
	}
	if !same {
		t.Fatalf("decodeUpdatable(%q) = %+v %v; encoding/json: %+v %v", in, gotReq, gotParams, wantReq, wantParams)
	}
	gs, gok := targetState(gotReq.TargetState)
	ws, wok := targetStateJSON(wantReq.TargetState)
	if gs != ws || gok != wok {
		t.Fatalf("targetState(%q) = %d %v; encoding/json %d %v", gotReq.TargetState, gs, gok, ws, wok)
	}
	_, _, plain := decodeUpdatableFlat([]byte(in))
	return plain
}

func TestDecodeUpdatableMatchesEncodingJSON(t *testing.T) {
	for _, in := range updatableSeeds {
		updatableMatches(t, in)
	}
	for _, in := range updatableSeeds[:7] {
		if !updatableMatches(t, in) {
			t.Errorf("decodeUpdatable(%q) left the usual body to encoding/json", in)
		}
	}
}

// FuzzUpdatableBody holds decodeUpdatable to encoding/json's result on any
// bytes:
//
//	go test -run '^$' -fuzz FuzzUpdatableBody -fuzztime 30s ./mockserver/internal/wechat/
func FuzzUpdatableBody(f *testing.F) {
	for _, s := range updatableSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) { updatableMatches(t, in) })
}

// targetStateJSON is targetState by encoding/json alone.
func targetStateJSON(raw json.RawMessage) (int, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return activityNotStarted, true
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil || (n != activityNotStarted && n != activityStarted) {
		return 0, false
	}
	return n, true
}
