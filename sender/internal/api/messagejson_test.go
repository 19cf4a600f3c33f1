package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
)

// encoded is what writeJSON writes for m.
func encoded(t testing.TB, m *message.Message) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestMessageJSONMatchesEncoding: the 202's hand-written JSON is byte for
// byte encoding/json's, for every field set or empty and strings that
// need escaping; messages it does not cover go to encoding/json.
func TestMessageJSONMatchesEncoding(t *testing.T) {
	now := time.Date(2026, 12, 5, 4, 5, 6, 789_000_000, time.UTC)
	full := message.Message{
		ID: "msg_1", App: "shop", Platform: "wechat", To: "o_user", TemplateID: "tpl",
		Data: map[string]string{"thing1": "hello", "amount2": "¥9.90", "a": ""}, Page: "pages/x?y=1&z=<2>",
		SendAt: now.Add(time.Hour), IdempotencyKey: "k-1", APIKey: "ops", BroadcastID: "bc_1",
		Status: message.StatusRejected, Retries: 12, NextAttemptAt: now.Add(time.Hour), PlatformMsgID: "123",
		LastCode: "43101", LastError: "user refuse", Reason: reason.NotSubscribed, HeldReason: message.HeldQuietHours,
		DuplicateOf: "msg_0", CreatedAt: now, UpdatedAt: now.Add(time.Millisecond),
		Fingerprint: "never shown", Lease: message.Lease{Fence: 3, Until: now},
	}
	weird := "q\"b\\s/ c\x00\x01\x1f\x7f \b\f\n\r\t <&> \u2028\u2029 é 中文 😀 bad\xff\xfe end\xe2\x80"
	shanghai := time.FixedZone("CST", 8*3600)
	cases := map[string]message.Message{
		"full":             full,
		"minimal":          {ID: "msg_2", Status: message.StatusQueued, CreatedAt: now, UpdatedAt: now},
		"nil data":         {ID: "msg_3", Data: nil, CreatedAt: now, UpdatedAt: now},
		"empty data":       {ID: "msg_4", Data: map[string]string{}, CreatedAt: now, UpdatedAt: now},
		"zero times":       {ID: "msg_5"},
		"escapes":          {ID: weird, App: weird, To: weird, Data: map[string]string{weird: weird, "z": weird}, Page: weird, LastError: weird},
		"zone":             {ID: "msg_6", CreatedAt: now.In(shanghai), UpdatedAt: now.In(time.FixedZone("x", -(3*3600 + 30*60)))},
		"many keys":        {ID: "msg_7", Data: manyKeys(40)},
		"negative retries": {ID: "msg_8", Retries: -3},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := appendMessageJSON(nil, &m)
			if !ok {
				t.Fatal("not covered")
			}
			if want := encoded(t, &m); !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			rec := httptest.NewRecorder()
			writeMessage(rec, 202, &m)
			if rec.Code != 202 || rec.Header().Get("Content-Type") != "application/json" || !bytes.Equal(rec.Body.Bytes(), encoded(t, &m)) {
				t.Errorf("writeMessage: %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
			}
		})
	}
	// Not covered: encoding/json writes them (or refuses the time).
	for name, m := range map[string]message.Message{
		"attempts":    {ID: "a", Attempts: []message.Attempt{{Outcome: "delivered"}}},
		"receipt":     {ID: "r", Receipt: &message.Receipt{}},
		"year 10000":  {ID: "y", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"second zone": {ID: "z", CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("lmt", 8*3600+5))},
	} {
		if _, ok := appendMessageJSON(nil, &m); ok {
			t.Errorf("%s: covered; want it left to encoding/json", name)
		}
		rec := httptest.NewRecorder()
		writeMessage(rec, 200, &m)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(&m)
		if !bytes.Equal(rec.Body.Bytes(), buf.Bytes()) {
			t.Errorf("%s: writeMessage %s, writeJSON %s", name, rec.Body.Bytes(), buf.Bytes())
		}
	}
}

func manyKeys(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[strings.Repeat("k", i%7)+string(rune('a'+i%26))+string(rune('0'+i%10))] = "v"
	}
	return m
}

// FuzzMessageJSON: any strings, any times, the same bytes as
// encoding/json.
func FuzzMessageJSON(f *testing.F) {
	f.Add("msg_1", "o_\u2028\"x", "thing1", "a\x00b\xff", int64(1_733_000_000_123), 3)
	f.Add("", "", "", "", int64(0), 0)
	f.Fuzz(func(t *testing.T, id, to, key, val string, ms int64, retries int) {
		at := time.UnixMilli(ms).UTC()
		m := message.Message{ID: id, To: to, Data: map[string]string{key: val, val: key}, LastError: val,
			Retries: retries, CreatedAt: at, UpdatedAt: at, NextAttemptAt: at}
		got, ok := appendMessageJSON(nil, &m)
		if !ok {
			if _, err := json.Marshal(&m); err == nil && jsonTime(at) {
				t.Fatalf("not covered: %+v", m)
			}
			return
		}
		if want := encoded(t, &m); !bytes.Equal(got, want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
}

// TestMessageJSONKnowsEveryField: a field added to message.Message with a
// JSON name fails here until appendMessageJSON writes it (or leaves such
// messages to encoding/json): set one at a time, each must show in the
// bytes, and the bytes must still be encoding/json's.
func TestMessageJSONKnowsEveryField(t *testing.T) {
	typ := reflect.TypeOf(message.Message{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		var m message.Message
		v := reflect.ValueOf(&m).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Int, reflect.Int64:
			v.SetInt(7)
		case reflect.Map:
			v.Set(reflect.ValueOf(map[string]string{"k": "v"}))
		case reflect.Struct:
			if f.Type != reflect.TypeOf(time.Time{}) {
				t.Fatalf("field %s: a struct this test cannot fill; teach appendMessageJSON and this test", f.Name)
			}
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		case reflect.Pointer, reflect.Slice:
			v.Set(reflect.New(f.Type).Elem()) // left nil: such a message is only covered without them
			if name != "receipt" && name != "attempts" {
				t.Fatalf("field %s (%s): not known to appendMessageJSON", f.Name, f.Type)
			}
			continue
		default:
			t.Fatalf("field %s (%s): not known to appendMessageJSON", f.Name, f.Type)
		}
		got, ok := appendMessageJSON(nil, &m)
		if !ok {
			t.Fatalf("field %s: not covered", f.Name)
		}
		if !bytes.Contains(got, []byte(`"`+name+`":`)) {
			t.Errorf("field %s: %q missing from %s", f.Name, name, got)
		}
		if want := encoded(t, &m); !bytes.Equal(got, want) {
			t.Errorf("field %s:\ngot  %s\nwant %s", f.Name, got, want)
		}
	}
}
