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
