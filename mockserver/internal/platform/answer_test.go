package platform

import (
	"net/http"
	"strings"
	"testing"
)

func TestIntAnswerIsEncodingJSONs(t *testing.T) {
	type data struct {
		MsgKey int64 `json:"msg_key"`
	}
	type answer struct {
		Errno int    `json:"errno"`
		Msg   string `json:"msg"`
		Data  any    `json:"data"`
	}
	enc := func(n int64) []byte { return EncodeJSON(answer{Msg: "success <&>", Data: data{MsgKey: n}}) }
	a := NewIntAnswer(enc)
	for _, n := range []int64{4330001, 42, -7, 1 << 62} {
		if got, want := string(a.Bytes(n)), string(enc(n)); got != want {
			t.Errorf("Bytes(%d) = %q, encoding/json %q", n, got, want)
		}
	}
	if got := string(a.Bytes(5)); got != `{"errno":0,"msg":"success <&>","data":{"msg_key":5}}`+"\n" {
		t.Errorf("Bytes(5) = %q", got)
	}
}

func TestNewIntAnswerRefusesAnAnswerWithoutTheNumber(t *testing.T) {
	for name, enc := range map[string]func(int64) []byte{
		"no number": func(int64) []byte { return EncodeJSON(map[string]int{"a": 1}) },
		"twice":     func(n int64) []byte { return EncodeJSON([]int64{n, n}) },
		"changes":   func(n int64) []byte { return EncodeJSON(map[string]any{"n": n, "neg": n < 0}) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "platform:") {
					t.Errorf("%s: NewIntAnswer did not refuse (%v)", name, r)
				}
			}()
			NewIntAnswer(enc)
		}()
	}
}

func TestSameAnswerTellsApart(t *testing.T) {
	ok := func(w http.ResponseWriter) { w.Header().Set("Content-Type", "a"); _, _ = w.Write([]byte("x")) }
	for name, other := range map[string]func(http.ResponseWriter){
		"header": func(w http.ResponseWriter) { w.Header().Set("Content-Type", "b"); _, _ = w.Write([]byte("x")) },
		"status": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "a")
			w.WriteHeader(201)
			_, _ = w.Write([]byte("x"))
		},
		"body": func(w http.ResponseWriter) { w.Header().Set("Content-Type", "a"); _, _ = w.Write([]byte("y")) },
	} {
		if SameAnswer(ok, other) == nil {
			t.Errorf("%s: SameAnswer saw no difference", name)
		}
	}
	if err := SameAnswer(ok, ok); err != nil {
		t.Error(err)
	}
}

func TestTextAnswerIsEncodingJSONs(t *testing.T) {
	type answer struct {
		ErrNo  int    `json:"err_no"`
		ErrMsg string `json:"err_msg"`
		LogID  string `json:"log_id"`
		Data   any    `json:"data,omitempty"`
	}
	enc := func(s string) []byte { return EncodeJSON(answer{LogID: s}) }
	a := NewTextAnswer(enc)
	// Letters and digits are spliced; anything else is encoded anew.
	for _, s := range []string{"20240501150100ABCDEF0123456789ABCD", "", "x", "a\"b", "<&>", "é", "a b", "\x00", "\xff"} {
		if got, want := string(a.Bytes(s)), string(enc(s)); got != want {
			t.Errorf("Bytes(%q) = %q, encoding/json %q", s, got, want)
		}
	}
	if got := string(a.Bytes("L0G")); got != `{"err_no":0,"err_msg":"","log_id":"L0G"}`+"\n" {
		t.Errorf("Bytes(L0G) = %q", got)
	}
	for name, enc := range map[string]func(string) []byte{
		"no string": func(string) []byte { return EncodeJSON(map[string]int{"a": 1}) },
		"twice":     func(s string) []byte { return EncodeJSON([]string{s, s}) },
		"changes":   func(s string) []byte { return EncodeJSON(map[string]any{"s": s, "empty": s == ""}) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "platform:") {
					t.Errorf("%s: NewTextAnswer did not refuse (%v)", name, r)
				}
			}()
			NewTextAnswer(enc)
		}()
	}
}
