package alipay

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
)

// FuzzParseKeys: whatever text an app registration gives as a key,
// parsing never panics, an error never quotes the text, a private key
// that parses is in the size range and its signature verifies with its
// public half (both signature types), a public key that parses reads back
// from its own PEM, and no text parses as both.
func FuzzParseKeys(f *testing.F) {
	for _, s := range []string{DemoAppPrivateKeyPEM, DemoAppPublicKeyPEM, DemoAlipayPrivateKeyPEM, DemoAlipayPublicKeyPEM,
		DemoAppPrivateKeyPEM[:len(DemoAppPrivateKeyPEM)/2], "", "-----BEGIN", "MIIB", "not a key at all"} {
		f.Add(s)
	}
	if blk, _ := pem.Decode([]byte(DemoAppPublicKeyPEM)); blk != nil {
		f.Add(base64.StdEncoding.EncodeToString(blk.Bytes))
		f.Add(string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: blk.Bytes})))
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	f.Add(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})))
	f.Fuzz(func(t *testing.T, s string) {
		priv, perr := parsePrivateKey(s)
		pub, uerr := parsePublicKey(s)
		for _, err := range []error{perr, uerr} {
			if err != nil && len(strings.TrimSpace(s)) >= 8 && strings.Contains(err.Error(), strings.TrimSpace(s)) {
				t.Fatalf("error quotes the key: %v", err)
			}
		}
		if perr == nil && uerr == nil {
			t.Fatal("the same text parsed as a private and a public key")
		}
		if perr == nil {
			if n := priv.N.BitLen(); n < minKeyBits || n > maxKeyBits {
				t.Fatalf("a %d-bit private key was accepted", n)
			}
			for _, st := range []string{"RSA2", "RSA"} {
				sig, err := sign(priv, st, []byte("biz_content"))
				if err != nil || !verify(&priv.PublicKey, st, []byte("biz_content"), sig) {
					t.Fatalf("%s: the parsed key's signature does not verify: %v", st, err)
				}
			}
		}
		if uerr == nil {
			again, err := parsePublicKey(publicKeyPEM(pub))
			if err != nil || again.N.Cmp(pub.N) != 0 || again.E != pub.E {
				t.Fatalf("the public key does not read back from its PEM: %v", err)
			}
		}
	})
}
