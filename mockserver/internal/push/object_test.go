package push_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/push"
)

func TestParseObjectKeepsOrderAndNumbers(t *testing.T) {
	t.Parallel()
	in := `{"Z":1,"A":"x","N":12345678901234567890,"L":[{"b":true},{"b":null}],"O":{"y":2.5,"x":"<&>"}}`
	o, err := push.ParseObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("round trip:\n got %s\nwant %s", out, in)
	}
	if o[0].Name != "Z" || o.String("A") != "x" {
		t.Errorf("order or value lost: %+v", o)
	}
	if n, _ := o.Get("N"); n != json.Number("12345678901234567890") {
		t.Errorf("N = %#v: big numbers must stay as written", n)
	}
}

func TestParseObjectErrors(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"a":`, 20) + "1" + strings.Repeat("}", 20)
	for in, want := range map[string]string{
		``:                            "ends early",
		`[1]`:                         "must be a JSON object",
		`"x"`:                         "must be a JSON object",
		`{"a":1,"a":2}`:               "a: given twice",
		`{"a":{"b":1,"b"`:             "",
		`{"a":1} {}`:                  "after the event object",
		`{"a":tru}`:                   "malformed JSON",
		deep:                          "nested deeper",
		`{"a":[1,2,}`:                 "malformed JSON",
		`{"a":{"b":[{"c":1,"c":1}]}}`: "a.b[0].c: given twice",
	} {
		_, err := push.ParseObject([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseObject(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestObjectHelpers(t *testing.T) {
	t.Parallel()
	o := push.Object{{Name: "a", Value: "1"}}
	o2 := o.With("a", "2").With("b", int64(3)).Prepend("z", true).Prepend("a", "ignored")
	b, _ := o2.MarshalJSON()
	if string(b) != `{"z":true,"a":"2","b":3}` {
		t.Errorf("got %s", b)
	}
	if o.String("a") != "1" {
		t.Error("With changed the original object")
	}
	if _, err := (push.Object{{Name: "x", Value: struct{}{}}}).MarshalJSON(); err == nil {
		t.Error("an unsupported value encoded")
	}
}

// FuzzParseObject holds the decoder of hand-written events (POST
// /_mock/events) to: no panic, and whatever parses encodes to JSON that
// parses to the same thing.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"List":[{"TemplateId":"t","x":null}],"n":-1.5e3}`,
		`{"a":{"b":{"c":[[],{}]}}}`, `{"a":"\u00e9\ud83d\ude00"}`, `{"a":1,"a":2}`, `[`, `{"a"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := push.ParseObject(b)
		if err != nil {
			return
		}
		out, err := o.MarshalJSON()
		if err != nil {
			t.Fatalf("parsed %q but cannot encode it: %v", b, err)
		}
		o2, err := push.ParseObject(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		out2, _ := o2.MarshalJSON()
		if string(out) != string(out2) {
			t.Fatalf("not stable: %s vs %s", out, out2)
		}
	})
}
