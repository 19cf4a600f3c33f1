package events_test

import (
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	wxutil "github.com/silenceper/wechat/v2/util"

	"github.com/minipush/minipush/sender/internal/events"
)

// The fuzz targets drive the whole receiver (verification, envelope,
// decryption, both formats) with pushes that pass the signature checks —
// so the fuzzer reaches the decoders — and hold it to its contract: an
// answer of 200 (stored: exactly one event), or 400/401/413 with nothing
// stored; never a panic, never a 5xx.

type fuzzTarget struct {
	rc    http.Handler
	store *memStore
	now   time.Time
}

func newFuzzTarget(f *testing.F, apps ...events.App) *fuzzTarget {
	st := &memStore{}
	now := t0
	rc, err := events.NewReceiver(apps, st, discard(), events.WithClock(func() time.Time { return now }))
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzTarget{rc: rc.Handler(), store: st, now: now}
}

func (ft *fuzzTarget) check(t *testing.T, req *http.Request) {
	t.Helper()
	before := ft.store.count()
	w := httptest.NewRecorder()
	ft.rc.ServeHTTP(w, req)
	after := ft.store.count()
	switch w.Code {
	case http.StatusOK:
		if after > before+1 {
			t.Fatalf("one push stored %d events", after-before)
		}
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
		if after != before {
			t.Fatalf("refused (%d %s) yet stored", w.Code, w.Body)
		}
		if !strings.Contains(w.Body.String(), `"error"`) {
			t.Fatalf("refusal without a reason: %d %q", w.Code, w.Body)
		}
	default:
		t.Fatalf("answer %d %q: want 200, 400, 401 or 413", w.Code, w.Body)
	}
}

// signedWeChat is a POST signed with the app's token, the query extended
// by extra.
func signedWeChat(now time.Time, body []byte, extra url.Values) *http.Request {
	ts := now.Unix()
	q := url.Values{"timestamp": {itoa(ts)}, "nonce": {"12345"}}
	q.Set("signature", wxutil.Signature(wxToken, q.Get("timestamp"), "12345"))
	for k, v := range extra {
		q[k] = v
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/platform-events/"+wxAppName+"?"+q.Encode(), strings.NewReader(string(body)))
	return req
}

func itoa(n int64) string {
	b := []byte{}
	if n == 0 {
		return "0"
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func seedWeChat(f *testing.F, format string) {
	ct := t0.Unix()
	for _, s := range []string{
		popup(format, ct, "a:accept", "b:reject"), popup(format, ct, "a:accept"), change(format, ct, "a"),
		sent(format, ct, "1864323726461255680", "0"), sent(format, ct, "1", "10001"),
	} {
		f.Add([]byte(s))
	}
}

// FuzzWeChatXML: plain-mode bodies, XML seeds.
func FuzzWeChatXML(f *testing.F) {
	seedWeChat(f, "xml")
	f.Add([]byte(`<xml><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><MsgId>1</MsgId></xml>`))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "b">]><xml>&a;</xml>`))
	ft := newFuzzTarget(f, wechatApp(""))
	f.Fuzz(func(t *testing.T, body []byte) { ft.check(t, signedWeChat(ft.now, body, nil)) })
}

// FuzzWeChatJSON: plain-mode bodies, JSON seeds.
func FuzzWeChatJSON(f *testing.F) {
	seedWeChat(f, "json")
	f.Add([]byte(`{"FromUserName":"o","CreateTime":"1","MsgType":"event","Event":"subscribe_msg_sent_event","List":[{"TemplateId":"t","MsgID":1,"ErrorCode":0}]}`))
	f.Add([]byte(`{"List":null,"CreateTime":-1}`))
	ft := newFuzzTarget(f, wechatApp(""))
	f.Fuzz(func(t *testing.T, body []byte) { ft.check(t, signedWeChat(ft.now, body, nil)) })
}

// FuzzWeChatEnvelope: safe-mode pushes whose Encrypt is fuzzed (with a
// matching msg_signature, so decryption is reached), and pushes whose
// plaintext is fuzzed and properly encrypted (so the decrypted decoders
// are reached), in both envelope formats.
func FuzzWeChatEnvelope(f *testing.F) {
	ct := t0.Unix()
	f.Add("", []byte(popup("json", ct, "a:accept")), false)
	f.Add("", []byte(popup("xml", ct, "a:accept")), true)
	f.Add("AAAA", []byte(nil), true)
	f.Add("+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05J", []byte(nil), false)
	ft := newFuzzTarget(f, wechatApp(wxAESKey))
	f.Fuzz(func(t *testing.T, encrypt string, plain []byte, xmlEnvelope bool) {
		if encrypt == "" {
			enc, err := wxutil.EncryptMsg([]byte("0123456789abcdef"), plain, wxAppID, wxAESKey)
			if err != nil {
				t.Skip("the SDK cannot encrypt this input")
			}
			encrypt = string(enc)
		}
		ts := itoa(ft.now.Unix())
		var body string
		if xmlEnvelope {
			body = "<xml><ToUserName>gh_1</ToUserName><Encrypt><![CDATA[" + strings.ReplaceAll(encrypt, "]]>", "") + "]]></Encrypt></xml>"
			encrypt = strings.ReplaceAll(encrypt, "]]>", "")
		} else {
			body = `{"ToUserName":"gh_1","Encrypt":` + quoteJSON(encrypt) + `}`
		}
		extra := url.Values{"encrypt_type": {"aes"}, "openid": {wxUser},
			"msg_signature": {wxutil.Signature(wxToken, ts, "12345", strings.TrimSpace(encrypt))}}
		ft.check(t, signedWeChat(ft.now, []byte(body), extra))
	})
}

func quoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteString(hex.EncodeToString([]byte{byte(r)}))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// FuzzDouyin: signed webhook bodies.
func FuzzDouyin(f *testing.F) {
	for _, s := range []string{
		`{"event":"verify_webhook","client_key":"","content":{"challenge":12345}}`,
		`{"event":"user_subscribe_action","client_key":"tt0123456789abcdef","from_user_id":"u","content":"{\"msg_id\":\"T\",\"time\":1,\"subscribe_action\":1}"}`,
		`{"event":"user_subscribe_action","from_user_id":"u","content":{"msg_id":"T","subscribe_action":"4"}}`,
		`{"event":"send_push_failed_event","content":"{}"}`,
	} {
		f.Add([]byte(s), "m1")
	}
	ft := newFuzzTarget(f, douyinApp(""))
	f.Fuzz(func(t *testing.T, body []byte, msgID string) {
		sum := sha1.Sum(append([]byte(dySecret), body...))
		req := httptest.NewRequest(http.MethodPost, "/v1/platform-events/"+dyAppName, strings.NewReader(string(body)))
		req.Header.Set("X-Douyin-Signature", hex.EncodeToString(sum[:]))
		if msgID != "" && !strings.ContainsAny(msgID, "\r\n\x00") {
			req.Header.Set("Msg-Id", msgID)
		}
		ft.check(t, req)
	})
}
