package wechat_test

import (
	"bytes"
	"testing"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/wechat"
)

// The send body is written without reflection; it must be what
// encoding/json (call.JSON) writes for the same request, byte for byte.
func TestSendRequestMatchesEncoding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg wechat.Config
		s   platform.Send
	}{
		{s: platform.Send{To: "o1", TemplateID: "t", Data: map[string]string{"thing1": "无线耳机", "time3": "2024-05-01 15:01"}}},
		{s: platform.Send{To: "o1", TemplateID: "t", Page: "pages/a?x=1&y=<2>", Data: nil}},
		{s: platform.Send{To: "", TemplateID: "", Data: map[string]string{}}},
		{s: platform.Send{To: "q\"\\\n\t\x01\u2028\u2029\xff", TemplateID: "t", Page: "p",
			Data: map[string]string{"b": "2", "a": "1", "a\"": "<&>", "": "", "k\xfe": "v\x00"}}},
		{cfg: wechat.Config{MiniprogramState: "trial", Lang: "en_US"}, s: platform.Send{To: "o", TemplateID: "t",
			Data: map[string]string{"z": "1", "y": "2", "x": "3", "w": "4", "v": "5", "u": "6", "t": "7", "s": "8",
				"r": "9", "q": "10", "p": "11", "o": "12", "n": "13", "m": "14", "l": "15", "k": "16", "j": "17"}}},
	} {
		fast, ref, err := wechat.SendBodies(tc.cfg, tc.s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fast, ref) {
			t.Errorf("send %+v:\n got %q\nwant %q", tc.s, fast, ref)
		}
	}
}

func FuzzSendRequest(f *testing.F) {
	f.Add("o1", "t", "", "thing1", "无线耳机", "k2", "v2", "", "")
	f.Add("a<b", "t&", "p?x=1", "\u2028", "\xff", "", "", "developer", "zh_CN")
	f.Fuzz(func(t *testing.T, to, tpl, page, k1, v1, k2, v2, state, lang string) {
		s := platform.Send{To: to, TemplateID: tpl, Page: page, Data: map[string]string{k1: v1, k2: v2}}
		fast, ref, err := wechat.SendBodies(wechat.Config{MiniprogramState: state, Lang: lang}, s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fast, ref) {
			t.Fatalf("got %q\nwant %q", fast, ref)
		}
	})
}

// The usual answer of a delivery is read without reflection; whatever that
// path takes, encoding/json reads as a delivery with the same msgid.
func TestParseSendFastPath(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]struct {
		id   string
		fast bool
	}{
		`{"errcode":0,"errmsg":"ok","msgid":1234567890123456789}`:    {"1234567890123456789", true},
		`{"errcode":0,"errmsg":"ok","msgid":0}` + "\n":               {"0", true},
		`{"errcode":0,"errmsg":"ok","msgid":99999999999999999999}`:   {"", true}, // past int64: no msgid, still delivered
		`{"errcode":0,"errmsg":"ok","msgid":"123"}`:                  {"123", false},
		`{"errcode":0,"errmsg":"ok"}`:                                {"", false},
		` {"errcode":0,"errmsg":"ok","msgid":12}`:                    {"12", false},
		`{"errcode":0,"errmsg":"ok","msgid":12,"x":1}`:               {"12", false},
		`{"errcode":0,"errmsg":"ok","msgid":012}`:                    {"", false}, // not JSON
		`{"errcode":0,"errmsg":"ok","msgid":-1}`:                     {"-1", false},
		`{"errcode":43101,"errmsg":"user refuse to accept the msg"}`: {"", false},
	} {
		id, ok, ref, referr := wechat.ParseSends([]byte(body))
		if ok != want.fast || (ok && id != want.id) {
			t.Errorf("%s: fast path %q %v, want %q %v", body, id, ok, want.id, want.fast)
		}
		if ok && (referr != nil || ref.MsgID != id) {
			t.Errorf("%s: fast path %q, encoding/json %+v %v", body, id, ref, referr)
		}
	}
}

func FuzzParseSendFastPath(f *testing.F) {
	f.Add([]byte(`{"errcode":0,"errmsg":"ok","msgid":1234567890123456789}`))
	f.Add([]byte(`{"errcode":0,"errmsg":"ok","msgid":0}` + " \r\n\t"))
	f.Add([]byte(`{"errcode":0,"errmsg":"ok","msgid":00}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, ok, ref, referr := wechat.ParseSends(b)
		if ok && (referr != nil || ref.MsgID != id) {
			t.Fatalf("%q: fast path %q, encoding/json %+v %v", b, id, ref, referr)
		}
	})
}
