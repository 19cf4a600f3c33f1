package platform

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"testing"
)

// flatBody is the shape DecodeFlat is checked on: WeChat's subscribe/send
// body (Douyin's notify is the same shape with other names).
type flatBody struct {
	ToUser     string                     `json:"touser"`
	TemplateID string                     `json:"template_id"`
	Page       string                     `json:"page"`
	Data       map[string]json.RawMessage `json:"data"`
	State      string                     `json:"miniprogram_state"`
	Lang       string                     `json:"lang"`
}

func (v *flatBody) fields() []FlatField {
	return []FlatField{{Name: "touser", Str: &v.ToUser}, {Name: "template_id", Str: &v.TemplateID},
		{Name: "page", Str: &v.Page}, {Name: "data", Obj: &v.Data},
		{Name: "miniprogram_state", Str: &v.State}, {Name: "lang", Str: &v.Lang}}
}

var flatSeeds = []string{
	`{"touser":"o-1","template_id":"t","page":"pages/a?id=1","data":{"thing1":{"value":"无线耳机","color":""},"time3":{"value":"2024年5月1日 15:01"}},"miniprogram_state":"formal","lang":"zh_CN"}`,
	`{}`, ` { } `, `{"touser":"a"}`, `{"TOUSER":"a"}`, `{"ToUser":"a","touser":"b"}`, `{"touser":"a","touser":"b"}`,
	`{"data":{"a":1},"data":{"b":2}}`, `{"data":{"a":1,"a":2}}`, `{"data":null}`, `{"data":[]}`, `{"data":"x"}`,
	`{"touser":null}`, `{"touser":1}`, `{"touser":true}`, `{"touser":{}}`, `{"touser":"a\"b\\c\/d\n"}`,
	`{"touser":"\u0041"}`, `{"touser":"bad\x"}`, "{\"touser\":\"\xff\"}", "{\"touser\":\"tab\tin\"}",
	`{"unknown":{"deep":[1,2,{"x":null}]},"touser":"a"}`, `{"unknown":"\u00e9"}`, `{"t\u006fuser":"a"}`,
	"{\"touſer\":\"long s\"}", "{\"\u212aey\":1}", `{"touser":"a",}`, `{"touser":"a"`, `{"touser" "a"}`,
	`{"touser":"a"}}`, `{"touser":"a"} x`, `{"touser":"a"} `, `null`, `[]`, `"s"`, ``, ` `, `{`, `}`,
	`{"data":{"thing1":{"value":"x"}},"page":""}`, `{"data":{}}`, `{"data":{"k":{"value":"a\u00e9"}}}`,
	`{"page":"a","data":{"x":1} ,"lang":"en_US" }`, `{"lang":"x","Lang":"y"}`, `{"touser":"\"`, `{"touser":"\\"}`,
	`{"a":1 "b":2}`, `{"a":01}`, `{"a":-}`, `{"a":tru}`, `{1:2}`, `{"a"}`, `{"a":}`, `{"":1}`, `{"touser":""}`,
}

// decodeFlatMatches checks DecodeFlat against json.Unmarshal on in; it
// reports whether the fast path took it.
func decodeFlatMatches(t *testing.T, in string) bool {
	t.Helper()
	var want flatBody
	err := json.Unmarshal([]byte(in), &want)
	var got flatBody
	if !DecodeFlat([]byte(in), got.fields()) {
		if got.ToUser != "" || got.TemplateID != "" || got.Page != "" || got.Data != nil || got.State != "" || got.Lang != "" {
			t.Fatalf("DecodeFlat(%q) left the body to encoding/json but wrote %+v", in, got)
		}
		return false
	}
	if err != nil {
		t.Fatalf("DecodeFlat(%q) decoded what encoding/json refuses (%v)", in, err)
	}
	if got.ToUser != want.ToUser || got.TemplateID != want.TemplateID || got.Page != want.Page ||
		got.State != want.State || got.Lang != want.Lang || (got.Data == nil) != (want.Data == nil) ||
		!maps.EqualFunc(got.Data, want.Data, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
		t.Fatalf("DecodeFlat(%q) = %+v; encoding/json: %+v", in, got, want)
	}
	return true
}

func TestDecodeFlatMatchesEncodingJSON(t *testing.T) {
	for _, in := range flatSeeds {
		decodeFlatMatches(t, in)
	}
	// The fast path must serve the shapes senders post.
	for _, in := range []string{flatSeeds[0], `{}`, `{"touser":"a\"b\\c\/d\n"}`, `{"TOUSER":"a"}`,
		`{"unknown":{"deep":[1,2,{"x":null}]},"touser":"a"}`} {
		if !decodeFlatMatches(t, in) {
			t.Errorf("DecodeFlat(%q) left the common shape to encoding/json", in)
		}
	}
	// What the fast path must leave to encoding/json (its verdicts there
	// differ from a naive reading: last duplicate wins, a repeated data
	// merges, null leaves a string alone, folded non-ASCII keys match).
	for _, in := range []string{`{"touser":"a","touser":"b"}`, `{"data":{"a":1},"data":{"b":2}}`,
		`{"touser":null}`, "{\"touſer\":\"long s\"}", `{"touser":"\u0041"}`, `{"touser":1}`} {
		if decodeFlatMatches(t, in) {
			t.Errorf("DecodeFlat(%q) took a shape it must leave to encoding/json", in)
		}
	}
}

func TestDecodeFlatTooManyFields(t *testing.T) {
	fields := make([]FlatField, maxFlatFields+1)
	for i := range fields {
		fields[i] = FlatField{Name: string(rune('a' + i)), Str: new(string)}
	}
	if DecodeFlat([]byte(`{"a":"x"}`), fields) {
		t.Fatal("DecodeFlat took more fields than it can hold")
	}
	if *fields[0].Str != "" {
		t.Fatal("DecodeFlat wrote a field while refusing")
	}
}

// FuzzDecodeFlat holds DecodeFlat to encoding/json's result on any bytes:
//
//	go test -run '^$' -fuzz FuzzDecodeFlat -fuzztime 30s ./mockserver/internal/platform/
func FuzzDecodeFlat(f *testing.F) {
	for _, s := range flatSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		decodeFlatMatches(t, in)
	})
}

func TestFlatFieldsMatch(t *testing.T) {
	var v flatBody
	if err := FlatFieldsMatch(&v, v.fields()); err != nil {
		t.Fatal(err)
	}
	short := v.fields()[:5]
	if FlatFieldsMatch(&v, short) == nil {
		t.Error("a struct field missing from the list passed")
	}
	var other flatBody
	wrong := v.fields()
	wrong[0].Str = &other.ToUser
	if FlatFieldsMatch(&v, wrong) == nil {
		t.Error("a field pointing into another struct passed")
	}
	kind := v.fields()
	kind[3] = FlatField{Name: "data", Str: new(string)}
	if FlatFieldsMatch(&v, kind) == nil {
		t.Error("an object field listed as a string passed")
	}
}

// listBody is the shape the raw and int-list fields are checked on:
// Douyin's notify_user body, with a raw member beside it (WeChat's
// updatable send keeps target_state and template_info raw).
type listBody struct {
	MsgID      string                     `json:"msg_id"`
	Data       map[string]json.RawMessage `json:"data"`
	NotifyType []int                      `json:"notify_type"`
	State      json.RawMessage            `json:"target_state"`
}

func (v *listBody) fields() []FlatField {
	return []FlatField{{Name: "msg_id", Str: &v.MsgID}, {Name: "data", Obj: &v.Data},
		{Name: "notify_type", Ints: &v.NotifyType}, {Name: "target_state", Raw: &v.State}}
}

var listSeeds = []string{
	`{"msg_id":"MSG1","data":{"预约项目":"年度体检"},"notify_type":[1,2],"target_state":0}`,
	`{"notify_type":[]}`, `{"notify_type":[ 1 , 2 ]}`, `{"notify_type":null}`, `{"notify_type":[null]}`,
	`{"notify_type":[1.0]}`, `{"notify_type":[1e2]}`, `{"notify_type":[-0]}`, `{"notify_type":[01]}`,
	`{"notify_type":[-]}`, `{"notify_type":["1"]}`, `{"notify_type":[1,]}`, `{"notify_type":[,1]}`,
	`{"notify_type":[999999999999999999]}`, `{"notify_type":[9999999999999999999]}`, `{"notify_type":[1]]}`,
	`{"notify_type":[1],"notify_type":[2]}`, `{"Notify_Type":[3]}`, `{"notify_type":{}}`, `{"notify_type":1}`,
	`{"target_state":null}`, `{"target_state":"x"}`, `{"target_state":{"a":[1,{"b":null}]}}`, `{"target_state":1.5e3}`,
	`{"target_state": true }`, `{"target_state":"\u0041"}`, `{"target_state":[1,2]}`, `{"target_state":}`,
	`{"TARGET_STATE":0}`, `{"target_state":0,"target_state":1}`, `{"notify_type":[1 2]}`,
}

// decodeListMatches is decodeFlatMatches for listBody.
func decodeListMatches(t *testing.T, in string) bool {
	t.Helper()
	var want listBody
	err := json.Unmarshal([]byte(in), &want)
	var got listBody
	if !DecodeFlat([]byte(in), got.fields()) {
		if got.MsgID != "" || got.Data != nil || got.NotifyType != nil || got.State != nil {
			t.Fatalf("DecodeFlat(%q) left the body to encoding/json but wrote %+v", in, got)
		}
		return false
	}
	if err != nil {
		t.Fatalf("DecodeFlat(%q) decoded what encoding/json refuses (%v)", in, err)
	}
	if got.MsgID != want.MsgID || !reflect.DeepEqual(got.NotifyType, want.NotifyType) ||
		!bytes.Equal(got.State, want.State) || (got.State == nil) != (want.State == nil) ||
		(got.Data == nil) != (want.Data == nil) ||
		!maps.EqualFunc(got.Data, want.Data, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
		t.Fatalf("DecodeFlat(%q) = %+v; encoding/json: %+v", in, got, want)
	}
	return true
}

func TestDecodeFlatRawAndInts(t *testing.T) {
	for _, in := range listSeeds {
		decodeListMatches(t, in)
	}
	for _, in := range []string{listSeeds[0], `{"notify_type":[]}`, `{"notify_type":[ 1 , 2 ]}`, `{"notify_type":[-0]}`,
		`{"target_state":null}`, `{"target_state":{"a":[1,{"b":null}]}}`, `{"TARGET_STATE":0}`, `{"Notify_Type":[3]}`} {
		if !decodeListMatches(t, in) {
			t.Errorf("DecodeFlat(%q) left a plain shape to encoding/json", in)
		}
	}
	for _, in := range []string{`{"notify_type":null}`, `{"notify_type":[null]}`, `{"notify_type":[1.0]}`,
		`{"notify_type":[9999999999999999999]}`, `{"target_state":"\u0041"}`, `{"target_state":0,"target_state":1}`} {
		if decodeListMatches(t, in) {
			t.Errorf("DecodeFlat(%q) took a shape it must leave to encoding/json", in)
		}
	}
	var v listBody
	if err := FlatFieldsMatch(&v, v.fields()); err != nil {
		t.Fatal(err)
	}
	kind := v.fields()
	kind[2] = FlatField{Name: "notify_type", Raw: &v.State}
	if FlatFieldsMatch(&v, kind) == nil {
		t.Error("an int-list field listed as raw passed")
	}
}

// FuzzDecodeFlatRawAndInts is FuzzDecodeFlat for the raw and int-list
// fields:
//
//	go test -run '^$' -fuzz FuzzDecodeFlatRawAndInts -fuzztime 30s ./mockserver/internal/platform/
func FuzzDecodeFlatRawAndInts(f *testing.F) {
	for _, s := range append(listSeeds, flatSeeds...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		decodeListMatches(t, in)
	})
}
