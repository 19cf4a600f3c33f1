package alipay

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"strings"
	"testing"
)

// keySeeds are keys as people paste them: the demo PEM files, their bare
// base64, PKCS#8 and PKIX re-encodings, wrong labels, a truncated key, an
// EC key and a 1024-bit key.
func keySeeds(tb testing.TB) []string {
	tb.Helper()
	var seeds []string
	for _, f := range []string{"../../../../configs/demo-keys/app_private.pem", "../../../../configs/demo-keys/alipay_public.pem"} {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, string(b), string(b[:len(b)/2]))
		if blk, _ := pem.Decode(b); blk != nil {
			seeds = append(seeds, base64.StdEncoding.EncodeToString(blk.Bytes),
				string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: blk.Bytes})))
			if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
				p8, _ := x509.MarshalPKCS8PrivateKey(k)
				pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
				seeds = append(seeds, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})),
					base64.RawStdEncoding.EncodeToString(pub))
			}
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	return append(seeds, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})),
		string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)})),
		"", "-----BEGIN", "MIIB", "not a key at all")
}

// FuzzParseKeys: whatever text is given as a key, parsing never panics,
// an error never quotes the text, a private key that parses is in the
// size range and signs what its public half verifies, and no text parses
// as both a private and a public key.
func FuzzParseKeys(f *testing.F) {
	for _, s := range keySeeds(f) {
		f.Add(s)
	}
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
			sig, err := sign(priv, "biz_content")
			if err != nil || !verify(&priv.PublicKey, []byte("biz_content"), sig) {
				t.Fatalf("the parsed key's signature does not verify: %v", err)
			}
		}
		if uerr == nil {
			if n := pub.N.BitLen(); n < minKeyBits || n > maxKeyBits {
				t.Fatalf("a %d-bit public key was accepted", n)
			}
		}
	})
}
