package mockapi_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/minipush/minipush/mockserver/mockapi"
)

func TestDurationJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{`"300ms"`, 300 * time.Millisecond, true},
		{`"1h30m"`, 90 * time.Minute, true},
		{`"-2h"`, -2 * time.Hour, true},
		{`250`, 250 * time.Millisecond, true},
		{`0.5`, 500 * time.Microsecond, true},
		{`null`, 0, true},
		{`"2 hours"`, 0, false},
		{`""`, 0, false},
		{`true`, 0, false},
		{`[1]`, 0, false},
		{`{"ms":1}`, 0, false},
		{`1e300`, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			var v struct {
				Latency mockapi.Duration `json:"latency"`
			}
			err := json.Unmarshal([]byte(`{"latency":`+tc.in+`}`), &v)
			if (err == nil) != tc.ok || time.Duration(v.Latency) != tc.want {
				t.Fatalf("got %v, %v; want %v ok=%v", time.Duration(v.Latency), err, tc.want, tc.ok)
			}
			var ute *json.UnmarshalTypeError
			if err != nil && (!errors.As(err, &ute) || ute.Field != "latency") {
				t.Fatalf("error %v does not name the field latency", err)
			}
		})
	}
	b, err := json.Marshal(mockapi.Duration(1500 * time.Millisecond))
	if err != nil || string(b) != `"1.5s"` {
		t.Fatalf("marshal = %s, %v", b, err)
	}
}

func TestContentWordJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		want  []mockapi.ContentWord
		field string // "" = ok; else the error must mention it
	}{
		{`["a", {"word":"b","label":20001}]`, []mockapi.ContentWord{{Word: "a"}, {Word: "b", Label: 20001}}, ""},
		{`[{"word":"c"}]`, []mockapi.ContentWord{{Word: "c"}}, ""},
		{`[{"word":"c","lable":1}]`, nil, "lable"},
		{`[5]`, nil, "risky"},
		{`[["x"]]`, nil, "risky"},
		{`[{"word":5}]`, nil, "risky.word"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			var r mockapi.ContentRules
			err := json.Unmarshal([]byte(`{"risky":`+tc.in+`}`), &r)
			if tc.field == "" {
				if err != nil || len(r.Risky) != len(tc.want) {
					t.Fatalf("got %+v, %v; want %+v", r.Risky, err, tc.want)
				}
				for i := range tc.want {
					if r.Risky[i] != tc.want[i] {
						t.Fatalf("word %d = %+v, want %+v", i, r.Risky[i], tc.want[i])
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %s", tc.in)
			}
			var ute *json.UnmarshalTypeError
			named := strings.Contains(err.Error(), `"`+tc.field+`"`) || (errors.As(err, &ute) && ute.Field == tc.field)
			if !named {
				t.Fatalf("error %v does not name %q", err, tc.field)
			}
		})
	}
}

func TestContentWordYAML(t *testing.T) {
	t.Parallel()
	var r mockapi.ContentRules
	doc := "risky:\n  - plain\n  - word: labelled\n    label: 20002\n"
	if err := yaml.Unmarshal([]byte(doc), &r); err != nil {
		t.Fatal(err)
	}
	want := []mockapi.ContentWord{{Word: "plain"}, {Word: "labelled", Label: 20002}}
	if len(r.Risky) != 2 || r.Risky[0] != want[0] || r.Risky[1] != want[1] {
		t.Fatalf("got %+v, want %+v", r.Risky, want)
	}
}
