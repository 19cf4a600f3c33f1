package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// decodeStd is decode's encoding/json path: the request, or ok false
// where decode answers 400.
func decodeStd(body []byte) (req messageRequest, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		return messageRequest{}, false
	}
	return req, true
}

var decodeSeeds = []string{
	`{"app":"shop","to":"o_user","template_id":"tpl","data":{"thing1":"hello","amount2":"¥9.90"},"page":"pages/x"}`,
	` { "app" : "shop" , "to":"u", "data" : { } , "urgent" : true , "idempotency_key":"k" } ` + "\n",
	`{"app":"shop","to":"u","template_id":"t","data":{"k":"v"},"send_at":"2030-01-02T03:04:05.123+08:00"}`,
	`{}`,
	`{"urgent":false}`,
	`{"send_at":"2030-01-02T03:04:05Z","send_at":"2030-01-02T03:04:05Z"}`,
	`{"send_at":"2030-01-02 03:04:05"}`,
	`{"send_at":"2030-13-02T03:04:05Z"}`,
	`{"send_at":"2030-01-02T03:04:05.1234567891Z"}`,
	`{"send_at":"0000-01-02T03:04:05-23:59"}`,
	`{"send_at":"2030-01-02T03:04:05+24:00"}`,
	`{"send_at":null}`,
	`{"data":{"a":"1","a":"2"}}`,
	`{"app":"a","app":"b"}`,
	`{"App":"a"}`,
	`{"app":"a\"b"}`,
	`{"app":"a\u00e9"}`,
	`{"app":null}`,
	`{"data":null}`,
	`{"send_at":"2030-01-02T03:04:05Z"}`,
	`{"dedup":{"key":"k","window":"1h"}}`,
	`{"app":"a"} {}`,
	`{"app":"a"}x`,
	`{"app":"a",}`,
	`{"urgent":tru}`,
	`{"urgent":1}`,
	`{"to":"中文 😀"}`,
	"{\"to\":\"bad\xff\"}",
	"{\"to\":\"tab\there\"}",
	`{"other":"x"}`,
	`[]`,
	`{"data":{"k":1}}`,
}

// TestDecodeMessageFast: where the one-pass reader takes a body, it reads
// what encoding/json reads; the seeds include bodies it must leave to
// encoding/json.
func TestDecodeMessageFast(t *testing.T) {
	taken := 0
	for _, body := range decodeSeeds {
		var got messageRequest
		if !decodeMessageFast([]byte(body), &got) {
			continue
		}
		taken++
		want, ok := decodeStd([]byte(body))
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: fast %+v; encoding/json %+v (ok %v)", body, got, want, ok)
		}
	}
	if taken < 5 {
		t.Errorf("the fast path took %d of the seeds; the common shape must be taken", taken)
	}
	// The common shape is taken.
	for _, body := range decodeSeeds[:4] {
		var got messageRequest
		if !decodeMessageFast([]byte(body), &got) {
			t.Errorf("%s: not taken", body)
		}
	}
}

// FuzzDecodeMessageFast: any body the one-pass reader takes decodes the
// same with encoding/json (which accepts it).
func FuzzDecodeMessageFast(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got messageRequest
		if !decodeMessageFast(body, &got) {
			return
		}
		want, ok := decodeStd(body)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: fast %+v; encoding/json %+v (ok %v)", body, got, want, ok)
		}
	})
}
