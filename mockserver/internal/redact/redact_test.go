package redact_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/redact"
)

func TestText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"wechat send body: nothing secret", `{"touser":"o1","template_id":"t","data":{"thing1":{"value":"secret"}}}`,
			`{"touser":"o1","template_id":"t","data":{"thing1":{"value":"secret"}}}`},
		{"stable_token body", `{"grant_type":"client_credential","appid":"wx1","secret":"s3cr3t"}`,
			`{"grant_type":"client_credential","appid":"wx1","secret":"***"}`},
		{"token answer", `{"access_token":"ACCESS.TOKEN","expires_in":7200}`, `{"access_token":"***","expires_in":7200}`},
		{"nested, spaced, upper case", "{\"data\": {\"Access_Token\" :\n \"abc\\\"def\", \"refresh_token\":\"r\"}}",
			"{\"data\": {\"Access_Token\" :\n \"***\", \"refresh_token\":\"***\"}}"},
		{"number and literal values", `{"secret":12345,"token":true,"n":1}`, `{"secret":***,"token":***,"n":1}`},
		{"object value: members checked by name", `{"token":{"access_token":"a","kind":"x"}}`, `{"token":{"access_token":"***","kind":"x"}}`},
		{"empty value kept", `{"secret":""}`, `{"secret":""}`},
		{"a key-like string value is not a key", `["secret","x"]`, `["secret","x"]`},
		{"cut short inside a secret", `{"appid":"wx1","secret":"abcdefgh`, `{"appid":"wx1","secret":"***`},
		{"cut short after the colon", `{"secret":`, `{"secret":`},
		{"alipay form", "app_id=2021&method=alipay.x&sign_type=RSA2&sign=AbC%2B%3D%3D&timestamp=2026",
			"app_id=2021&method=alipay.x&sign_type=RSA2&sign=***&timestamp=2026"},
		{"alipay answer", `{"alipay_open_app_mini_templatemessage_send_response":{"code":"10000","msg":"Success"},"sign":"ZmFrZQ=="}`,
			`{"alipay_open_app_mini_templatemessage_send_response":{"code":"10000","msg":"Success"},"sign":"***"}`},
		{"kuaishou form", "app_id=ks1&app_secret=zzz&grant_type=client_credentials", "app_id=ks1&app_secret=***&grant_type=client_credentials"},
		{"percent-encoded key", "access%5Ftoken=abc&x=1", "access%5Ftoken=***&x=1"},
		{"xml", "<xml><ToUserName><![CDATA[gh]]></ToUserName><Token><![CDATA[tok]]></Token><Signature>sig</Signature></xml>",
			"<xml><ToUserName><![CDATA[gh]]></ToUserName><Token><![CDATA[***]]></Token><Signature>***</Signature></xml>"},
		{"multipart", "--B\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\nTOK\r\n--B\r\nContent-Disposition: form-data; name=\"touser\"\r\n\r\nu1\r\n--B--\r\n",
			"--B\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\n***\r\n--B\r\nContent-Disposition: form-data; name=\"touser\"\r\n\r\nu1\r\n--B--\r\n"},
		{"empty", "", ""},
		{"blank", "  \n", "  \n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(redact.Text([]byte(tc.in))); got != tc.want {
				t.Fatalf("Text(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	q := url.Values{"grant_type": {"client_credential"}, "appid": {"wx1"}, "secret": {"s3cr3t/+="}}.Encode()
	got := redact.Query(q)
	if strings.Contains(got, "s3cr3t") || !strings.Contains(got, "secret=***") || !strings.Contains(got, "appid=wx1") {
		t.Fatalf("Query(%q) = %q", q, got)
	}
	if got := redact.Query("access_token=A.B-C"); got != "access_token=***" {
		t.Fatalf("access_token: %q", got)
	}
	if got := redact.Query("tid=12&kidList=1"); got != "tid=12&kidList=1" {
		t.Fatalf("nothing secret: %q", got)
	}
}

// Nothing is allocated for the common case of a body with no secret in it.
func TestTextAllocatesOnlyToMask(t *testing.T) {
	body := []byte(`{"touser":"o_user","template_id":"tmpl","page":"pages/index/index","data":{"thing1":{"value":"无线耳机"}}}`)
	if n := testing.AllocsPerRun(100, func() { _ = redact.Text(body) }); n != 0 {
		t.Fatalf("%v allocations for a body with nothing to mask", n)
	}
}

// FuzzText: whatever the input, Text does not panic, and a secret planted
// as a JSON member, a form value or a query value never comes back.
func FuzzText(f *testing.F) {
	f.Add([]byte(`{"a":"b"}`), "s3cr3t-value")
	f.Add([]byte("a=b&c=d"), "tok")
	f.Add([]byte("<xml><a>b</a></xml>"), "x\"y")
	f.Fuzz(func(t *testing.T, b []byte, secret string) {
		_ = redact.Text(b)
		_ = redact.Query(string(b))
		if len(secret) < 6 || strings.ContainsAny(secret, "\\") {
			return
		}
		j, _ := json.Marshal(map[string]any{"pad": "x", "secret": secret, "access_token": secret})
		if out := string(redact.Text(j)); strings.Contains(out, secret) {
			t.Fatalf("json %s masked to %s", j, out)
		}
		form := url.Values{"sign": {secret}, "x": {"1"}}.Encode()
		if out := string(redact.Text([]byte(form))); strings.Contains(out, url.QueryEscape(secret)) {
			t.Fatalf("form %s masked to %s", form, out)
		}
	})
}

func BenchmarkText(b *testing.B) {
	body := []byte(`{"touser":"o_user","template_id":"tmpl","page":"pages/index/index","data":{"thing1":{"value":"无线耳机"},"character_string2":{"value":"SF1234567890"}},"miniprogram_state":"formal","lang":"zh_CN"}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		_ = redact.Text(body)
	}
}
