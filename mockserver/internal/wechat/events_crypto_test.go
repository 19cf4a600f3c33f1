package wechat

import (
	"bytes"
	"strings"
	"testing"
)

// The official vectors of the message-push docs
// (https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html):
// Token "AAAAA", EncodingAESKey "A"×43, AppID wxba5fad812f8e6fb9, a JSON
// push in safe mode to
// ?signature=6c5c811b55cc85e0e1b54100749188c20beb3f5d&timestamp=1714112445&nonce=415670741
// &openid=o9AgO5Kd5ggOC-bXrbNODIiE3bGY&encrypt_type=aes&msg_signature=046e02f8204d34f8ba5fa3b1db94908f3df2e9b3
const (
	docToken     = "AAAAA"
	docAESKey    = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	docAppID     = "wxba5fad812f8e6fb9"
	docTimestamp = "1714112445"
	docNonce     = "415670741"
	docRandom    = "a8eedb185eb2fecf"
	docMsg       = `{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}`
	docEncrypt   = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="
)

func TestPushSignatureDocVectors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		parts []string
		want  string
	}{
		// The GET handshake example: token, timestamp 1714036504, nonce 1514711492.
		{"handshake", []string{docToken, "1714036504", "1514711492"}, "f464b24fc39322e44b38aa78f5edd27bd1441696"},
		// signature of the safe-mode push: token, timestamp, nonce only.
		{"signature", []string{docToken, docTimestamp, docNonce}, "6c5c811b55cc85e0e1b54100749188c20beb3f5d"},
		// msg_signature: the same plus Encrypt.
		{"msg_signature", []string{docToken, docTimestamp, docNonce, docEncrypt}, "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"},
	}
	for _, tc := range cases {
		if got := pushSignature(tc.parts...); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, got, tc.want)
		}
		// The order of the parts does not matter: they are sorted.
		rev := append([]string(nil), tc.parts...)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		if got := pushSignature(rev...); got != tc.want {
			t.Errorf("%s depends on the order of its parts", tc.name)
		}
	}
}

func TestEncryptPushDocVector(t *testing.T) {
	t.Parallel()
	key, err := pushAESKey(docAESKey)
	if err != nil {
		t.Fatal(err)
	}
	// CBC with IV = key[:16] is deterministic given the random prefix: the
	// mock's encryption reproduces the platform's bytes exactly.
	got, err := encryptPush(key, []byte(docRandom), []byte(docMsg), docAppID)
	if err != nil {
		t.Fatal(err)
	}
	if got != docEncrypt {
		t.Fatalf("Encrypt =\n%s\nwant\n%s", got, docEncrypt)
	}
	msg, appID, err := decryptPush(key, docEncrypt)
	if err != nil {
		t.Fatal(err)
	}
	if string(msg) != docMsg || appID != docAppID || len(msg) != 167 {
		t.Errorf("decrypted %d bytes %q for %q", len(msg), msg, appID)
	}
}

// PKCS#7 to 32-byte blocks: 1..32 bytes of padding, a whole block when the
// plaintext is already aligned.
func TestEncryptPushPadding(t *testing.T) {
	t.Parallel()
	key, _ := pushAESKey(docAESKey)
	random := bytes.Repeat([]byte{7}, 16)
	for n := 0; n <= 70; n++ {
		msg := bytes.Repeat([]byte("m"), n)
		enc, err := encryptPush(key, random, msg, docAppID)
		if err != nil {
			t.Fatal(err)
		}
		plainLen := 16 + 4 + n + len(docAppID)
		wantLen := (plainLen/32 + 1) * 32
		got, appID, err := decryptPush(key, enc)
		if err != nil || !bytes.Equal(got, msg) || appID != docAppID {
			t.Fatalf("n=%d: decrypt = %q %q %v", n, got, appID, err)
		}
		if raw := len(enc) / 4 * 3; raw-strings.Count(enc, "=") != wantLen {
			t.Fatalf("n=%d: ciphertext %d bytes, want %d", n, raw-strings.Count(enc, "="), wantLen)
		}
	}
}

func TestPushAESKey(t *testing.T) {
	t.Parallel()
	for key, ok := range map[string]bool{
		docAESKey: true, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG": true,
		"": false, docAESKey[:42]: false, docAESKey + "A": false,
		"abcdefghijklmnopqrstuvwxyz0123456789ABCDEF+": false,
	} {
		if _, err := pushAESKey(key); (err == nil) != ok {
			t.Errorf("pushAESKey(%q) = %v, want ok %v", key, err, ok)
		}
	}
}

func TestDecryptPushRejects(t *testing.T) {
	t.Parallel()
	key, _ := pushAESKey(docAESKey)
	other, _ := pushAESKey(strings.Repeat("B", 43))
	for name, enc := range map[string]string{
		"not base64": "%%%", "short": "AAAA", "not whole blocks": docEncrypt[:len(docEncrypt)-8] + "AAAAAAA=",
	} {
		if _, _, err := decryptPush(key, enc); err == nil {
			t.Errorf("%s: decrypted", name)
		}
	}
	if msg, appID, err := decryptPush(other, docEncrypt); err == nil && appID == docAppID {
		t.Errorf("decrypted with another key: %q %q", msg, appID)
	}
}
