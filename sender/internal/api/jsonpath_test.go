package api

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestJSONPath(t *testing.T) {
	t.Parallel()
	type body struct {
		App    string            `json:"app"`
		To     []string          `json:"to"`
		Data   map[string]string `json:"data"`
		SendAt *time.Time        `json:"send_at"`
	}
	for in, want := range map[string]string{
		`{"data":{"thing1":5}}`:                          "data.thing1",
		`{"data":{"a":"x","b":"y","thing2":{"v":1}}}`:    "data.thing2",
		`{"to":["a",3]}`:                                 "to[1]",
		`{"to":["a","b",["c"]]}`:                         "to[2]",
		`{"app":{"nested":[1,2]}}`:                       "app",
		`{"app":"x","data":[1]}`:                         "data",
		`{"data":{"a.b":true}}`:                          "data.a.b",
		` { "to" : [ "a" , false ] , "app" : "x" }`:      "to[1]",
		`{"app":"a","to":["x"],"data":{"k":"v","z":[]}}`: "data.z",
	} {
		var b body
		err := json.Unmarshal([]byte(in), &b)
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			t.Fatalf("%s: %v is not a type error", in, err)
		}
		if got := jsonPath([]byte(in), te.Offset); got != want {
			t.Errorf("%s: path %q, want %q", in, got, want)
		}
	}
}

// FuzzJSONPath: whatever the body and offset, jsonPath returns without
// panicking, and for a type error its path starts with the field
// encoding/json names.
func FuzzJSONPath(f *testing.F) {
	for _, s := range []string{`{"data":{"thing1":5}}`, `{"to":["a",3]}`, `[`, `{"a":`, `"x"`, `{"data":{"a":[{"b":1}]}}`} {
		f.Add([]byte(s), int64(len(s)))
	}
	f.Fuzz(func(t *testing.T, body []byte, off int64) {
		_ = jsonPath(body, off)
		var v struct {
			App  string            `json:"app"`
			To   []string          `json:"to"`
			Data map[string]string `json:"data"`
		}
		var te *json.UnmarshalTypeError
		if err := json.Unmarshal(body, &v); errors.As(err, &te) && te.Field != "" {
			if p := jsonPath(body, te.Offset); !hasFieldPrefix(p, te.Field) {
				t.Fatalf("path %q for a type error in field %q", p, te.Field)
			}
		}
	})
}

// hasFieldPrefix reports whether path starts with field, compared as
// encoding/json matches names (case-insensitively), followed by the end, a
// '.' or a '['.
func hasFieldPrefix(path, field string) bool {
	for i := 0; i <= len(path); i++ {
		if (i == len(path) || path[i] == '.' || path[i] == '[') && strings.EqualFold(path[:i], field) {
			return true
		}
	}
	return false
}
