package jsonstr

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func marshal(t testing.TB, v any, escapeHTML bool) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

var weird = "q\"b\\s/ c\x00\x01\x1f\x7f \b\f\n\r\t <&> \u2028\u2029 é 中文 😀 bad\xff\xfe end\xe2\x80"

// TestAppendMatchesEncoding: strings and maps, with and without HTML
// escaping, byte for byte encoding/json's.
func TestAppendMatchesEncoding(t *testing.T) {
	maps := []map[string]string{nil, {}, {"a": "1"}, {weird: weird, "z": "<b>", "": ""},
		{"thing1": "咖啡豆已发货", "time2": "2024-05-01 12:30", "character_string3": "SF123"}}
	many := map[string]string{}
	for i := range 40 {
		many[string(rune('a'+i%26))+string(rune('0'+i))] = "v"
	}
	maps = append(maps, many)
	for _, html := range []bool{true, false} {
		for _, s := range []string{"", "plain", weird, "<script>&amp;</script>"} {
			if got, want := AppendString(nil, s, html), marshal(t, s, html); !bytes.Equal(got, want) {
				t.Errorf("AppendString(%q, %v) = %s, want %s", s, html, got, want)
			}
		}
		for _, m := range maps {
			if got, want := AppendMap(nil, m, html), marshal(t, m, html); !bytes.Equal(got, want) {
				t.Errorf("AppendMap(%v, %v) = %s, want %s", m, html, got, want)
			}
		}
	}
}

// TestDecodeMapMatchesUnmarshal: what DecodeMap takes, json.Unmarshal
// reads the same; the common stored forms are taken.
func TestDecodeMapMatchesUnmarshal(t *testing.T) {
	taken := map[string]bool{
		`{"thing1":"咖啡豆已发货","time2":"2024-05-01 12:30"}`: true,
		`{}`:                          true,
		` { "a" : "1" , "a" : "2" } `: true,
		`{"a":"\u003c"}`:              false,
		`null`:                        false,
		`{"a":1}`:                     false,
		`{"a":"1",}`:                  false,
		`{"a":"1"} x`:                 false,
		"{\"a\":\"\xff\"}":            false,
		`[]`:                          false,
		``:                            false,
	}
	for in, want := range taken {
		got, ok := DecodeMap([]byte(in))
		if ok != want {
			t.Errorf("DecodeMap(%s): taken %v, want %v", in, ok, want)
		}
		if !ok {
			continue
		}
		var std map[string]string
		if err := json.Unmarshal([]byte(in), &std); err != nil || !reflect.DeepEqual(got, std) {
			t.Errorf("DecodeMap(%s) = %v; json.Unmarshal %v, %v", in, got, std, err)
		}
	}
}

func FuzzDecodeMap(f *testing.F) {
	f.Add([]byte(`{"thing1":"hello","amount2":"¥9.90"}`))
	f.Add([]byte(` {"a":"1","a":"2"} `))
	f.Add([]byte(`{"a":"\u003c"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := DecodeMap(b)
		if !ok {
			return
		}
		var std map[string]string
		if err := json.Unmarshal(b, &std); err != nil || !reflect.DeepEqual(got, std) {
			t.Errorf("DecodeMap(%q) = %v; json.Unmarshal %v, %v", b, got, std, err)
		}
	})
}

func FuzzAppendMap(f *testing.F) {
	f.Add("k", weird, true)
	f.Fuzz(func(t *testing.T, k, v string, html bool) {
		m := map[string]string{k: v, v: k}
		if got, want := AppendMap(nil, m, html), marshal(t, m, html); !bytes.Equal(got, want) {
			t.Errorf("AppendMap(%q) = %s, want %s", m, got, want)
		}
	})
}

// BenchmarkDataMap: a message's data as stored, written and read by this
// package and by encoding/json.
//
//	go test -run '^$' -bench DataMap ./sender/internal/jsonstr/
func BenchmarkDataMap(b *testing.B) {
	m := map[string]string{"thing1": "无线耳机", "character_string2": "SF1234567", "time3": "2024-05-01 15:01"}
	stored, _ := json.Marshal(m)
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = AppendMap(nil, m, true)
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(m)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = DecodeMap(stored)
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var d map[string]string
			_ = json.Unmarshal(stored, &d)
		}
	})
}
