package platform

import (
	"encoding/json"
	"testing"
)

// fastjsonSeeds are keyword items and scalars in the shapes senders use
// and in the shapes the one-pass readers must hand to encoding/json.
var fastjsonSeeds = []string{
	`{"value":"无线耳机","color":""}`, `{"value":"SF1234567890"}`, ` { "value" : "a" } `, `{}`, `{ }`,
	`{"value":42}`, `{"value":-0.5e+3}`, `{"value":1.}`, `{"value":01}`, `{"value":-}`, `{"value":1e}`,
	`{"value":null}`, `{"value":true}`, `{"value":false}`, `{"value":nul}`, `{"value":nullx}`,
	`{"Value":"upper"}`, `{"VALUE":"x","value":"y"}`, `{"value":"x","value":"y"}`, `{"valu\u0065":"esc"}`,
	`{"value":"a\"b"}`, `{"value":"a\u00e9"}`, `{"value":"tab	in"}`, "{\"value\":\"\xff\"}",
	`{"value":{"nested":1}}`, `{"value":["a"]}`, `{"color":{"a":1},"value":"x"}`, `{"\u212alue":"kelvin"}`,
	"{\"\u212avalue\":1}", `{"value":"x",}`, `{"value":"x"`, `{"value" "x"}`, `{"value":"x"}}`, `{"value":"x"} x`,
	`"just a string"`, `42`, `null`, `[1]`, `true`, ``, ` `, `{`, `"`, `"a\nb"`, `"é"`, "\"\xc3\"", `"unterminated`,
	`-1`, `1.5E-7`, `0`, `00`, `+1`, `.5`, `1.`, `"1"`, ` 7 `,
	`{"thing01":{"value":"无线耳机"},"date01":{"value":"2024年05月01号"},"amount01":{"value":"199.00"}}`,
	`{"a":[1,"x",{"b":null}],"c":{},"d":[],"e":true}`, `{"k":1,"k":2}`, `{"预约项目":"体检"}`, `{"a":[1,]}`, `{"a":{"b":}}`,
	`{"a":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}`, `{"a\u0062":1}`, `{"a":1 "b":2}`, `{"a":"\n"}`, `{"K":1,"k":2}`,
	`"{\"keyword1\":{\"value\":\"已发货\"}}"`, `"\/\b\f\n\r\t\\"`, `"bad\x"`, `"tail\"`, `"\u0041"`, "\"\\n\xff\"",
}

func TestKeywordValueMatchesEncodingJSON(t *testing.T) {
	for _, in := range fastjsonSeeds {
		gotV, gotOK := KeywordValue(json.RawMessage(in))
		wantV, wantOK := keywordValueSlow(json.RawMessage(in))
		if gotV != wantV || gotOK != wantOK {
			t.Errorf("KeywordValue(%q) = %q, %v; encoding/json: %q, %v", in, gotV, gotOK, wantV, wantOK)
		}
	}
	// The fast path must actually serve the common shapes.
	for _, in := range []string{`{"value":"无线耳机","color":""}`, `{"value":42}`, `{}`} {
		if _, done := plainItem([]byte(in)); !done {
			t.Errorf("plainItem(%q) left the common shape to encoding/json", in)
		}
	}
}

func TestScalarsMatchEncodingJSON(t *testing.T) {
	for _, in := range fastjsonSeeds {
		var s string
		err := json.Unmarshal([]byte(in), &s)
		if got, ok := JSONString([]byte(in)); got != s || ok != (err == nil) {
			t.Errorf("JSONString(%q) = %q, %v; encoding/json: %q, %v", in, got, ok, s, err)
		}
		var n json.Number
		err = json.Unmarshal([]byte(in), &n)
		if got, ok := JSONNumberText([]byte(in)); got != n.String() || ok != (err == nil) {
			t.Errorf("JSONNumberText(%q) = %q, %v; encoding/json: %q, %v", in, got, ok, n, err)
		}
	}
}

func TestRawObjectMatchesEncodingJSON(t *testing.T) {
	for _, in := range fastjsonSeeds {
		checkRawObject(t, in)
	}
	if _, done := plainObject([]byte(`{"thing01":{"value":"无线耳机"},"n":[1,2]}`)); !done {
		t.Error("plainObject left the common shape to encoding/json")
	}
}

func checkRawObject(t *testing.T, in string) {
	t.Helper()
	var want map[string]json.RawMessage
	err := json.Unmarshal([]byte(in), &want)
	got, ok := RawObject([]byte(in))
	if ok != (err == nil) || (got == nil) != (want == nil) || len(got) != len(want) {
		t.Fatalf("RawObject(%q) = %q, %v; encoding/json: %q, %v", in, got, ok, want, err)
	}
	for k, v := range want {
		if g, found := got[k]; !found || string(g) != string(v) {
			t.Fatalf("RawObject(%q)[%q] = %q; encoding/json: %q", in, k, g, v)
		}
	}
}

func FuzzKeywordValue(f *testing.F) {
	for _, s := range fastjsonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkRawObject(t, in)
		gotV, gotOK := KeywordValue(json.RawMessage(in))
		wantV, wantOK := keywordValueSlow(json.RawMessage(in))
		if gotV != wantV || gotOK != wantOK {
			t.Fatalf("KeywordValue(%q) = %q, %v; encoding/json: %q, %v", in, gotV, gotOK, wantV, wantOK)
		}
		var s string
		err := json.Unmarshal([]byte(in), &s)
		if got, ok := JSONString([]byte(in)); got != s || ok != (err == nil) {
			t.Fatalf("JSONString(%q) = %q, %v; encoding/json: %q, %v", in, got, ok, s, err)
		}
		var item struct {
			Value json.RawMessage `json:"value"`
		}
		err = json.Unmarshal([]byte(in), &item)
		if got, ok := ValueMember(json.RawMessage(in)); string(got) != string(item.Value) || ok != (err == nil) {
			t.Fatalf("ValueMember(%q) = %q, %v; encoding/json: %q, %v", in, got, ok, item.Value, err)
		}
		var n json.Number
		err = json.Unmarshal([]byte(in), &n)
		if got, ok := JSONNumberText([]byte(in)); got != n.String() || ok != (err == nil) {
			t.Fatalf("JSONNumberText(%q) = %q, %v; encoding/json: %q, %v", in, got, ok, n, err)
		}
	})
}

func TestValueMemberMatchesEncodingJSON(t *testing.T) {
	for _, in := range fastjsonSeeds {
		var item struct {
			Value json.RawMessage `json:"value"`
		}
		err := json.Unmarshal([]byte(in), &item)
		got, ok := ValueMember(json.RawMessage(in))
		if string(got) != string(item.Value) || ok != (err == nil) {
			t.Errorf("ValueMember(%q) = %q, %v; encoding/json: %q, %v", in, got, ok, item.Value, err)
		}
	}
}

func checkRawArray(t *testing.T, in string) bool {
	t.Helper()
	var want []json.RawMessage
	err := json.Unmarshal([]byte(in), &want)
	got, ok := RawArray([]byte(in))
	if ok != (err == nil) || (got == nil) != (want == nil) || len(got) != len(want) {
		t.Fatalf("RawArray(%q) = %q, %v; encoding/json: %q, %v", in, got, ok, want, err)
	}
	for i := range want {
		if string(got[i]) != string(want[i]) {
			t.Fatalf("RawArray(%q)[%d] = %q; encoding/json: %q", in, i, got[i], want[i])
		}
	}
	_, plain := plainArray([]byte(in))
	return plain
}

var rawArraySeeds = []string{
	`[{"name":"member_count","value":"3"},{"name":"room_limit","value":"10"}]`, `[]`, ` [ ] `, `[1, "a" ,null,true,false,{},[]]`,
	`null`, `[`, `]`, `[1,]`, `[,1]`, `[1 2]`, `[1]]`, `[1] x`, `{}`, `"[]"`, `["\u0041"]`, `["a\"b"]`, "[\"\xff\"]",
	`[01]`, `[-]`, `[{"a":[1,{"b":[]}]}]`, ``, ` `, `[nul]`, `[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]`,
}

func TestRawArrayMatchesEncodingJSON(t *testing.T) {
	for _, in := range rawArraySeeds {
		checkRawArray(t, in)
	}
	for _, in := range rawArraySeeds[:4] {
		if !checkRawArray(t, in) {
			t.Errorf("RawArray(%q) left the common shape to encoding/json", in)
		}
	}
}

// FuzzRawArray holds RawArray to encoding/json's result on any bytes:
//
//	go test -run '^$' -fuzz FuzzRawArray -fuzztime 30s ./mockserver/internal/platform/
func FuzzRawArray(f *testing.F) {
	for _, s := range rawArraySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkRawArray(t, in)
	})
}
