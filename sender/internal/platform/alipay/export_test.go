package alipay

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"sync"
	"testing"
)

// KeySet is the test binary's RSA keys, in every form a configuration may
// hold them. 2048-bit like real RSA2 keys (New refuses shorter ones);
// generated once per test binary (~0.1 s each under -race).
type KeySet struct {
	App                *rsa.PrivateKey
	AppPKCS1PEM        string
	AppPKCS8PEM        string
	AppPKCS1Base64     string
	AppPKCS8Base64     string
	AppPublicPEM       string // what the mock verifies requests with
	Alipay             *rsa.PrivateKey
	AlipayPrivatePEM   string // the mock signs answers with it
	AlipayPublicPEM    string
	AlipayPublicBase64 string
	// Other is an unrelated key: the wrong app key, or the wrong Alipay
	// public key.
	Other          *rsa.PrivateKey
	OtherPKCS8PEM  string
	OtherPublicPEM string
}

var keySet = sync.OnceValues(func() (*KeySet, error) {
	var keys [3]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	pkcs8 := func(k *rsa.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		return der
	}
	pkix := func(k *rsa.PrivateKey) []byte {
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			panic(err)
		}
		return der
	}
	enc := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	app, ali, other := keys[0], keys[1], keys[2]
	return &KeySet{
		App:                app,
		AppPKCS1PEM:        enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(app)),
		AppPKCS8PEM:        enc("PRIVATE KEY", pkcs8(app)),
		AppPKCS1Base64:     base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(app)),
		AppPKCS8Base64:     base64.StdEncoding.EncodeToString(pkcs8(app)),
		AppPublicPEM:       enc("PUBLIC KEY", pkix(app)),
		Alipay:             ali,
		AlipayPrivatePEM:   enc("PRIVATE KEY", pkcs8(ali)),
		AlipayPublicPEM:    enc("PUBLIC KEY", pkix(ali)),
		AlipayPublicBase64: base64.StdEncoding.EncodeToString(pkix(ali)),
		Other:              other,
		OtherPKCS8PEM:      enc("PRIVATE KEY", pkcs8(other)),
		OtherPublicPEM:     enc("PUBLIC KEY", pkix(other)),
	}, nil
})

// Keys returns the test keys.
func Keys(tb testing.TB) *KeySet {
	tb.Helper()
	k, err := keySet()
	if err != nil {
		tb.Fatalf("generate test keys: %v", err)
	}
	return k
}

// PrivateMaterial is text no error may contain: slices from the middle of
// every encoding of the private keys (PEM bodies are line-wrapped base64,
// so the line-free forms are checked in pieces that fit one PEM line).
func (k *KeySet) PrivateMaterial() []string {
	var out []string
	for _, key := range []*rsa.PrivateKey{k.App, k.Other} {
		for _, der := range [][]byte{x509.MarshalPKCS1PrivateKey(key), func() []byte {
			d, _ := x509.MarshalPKCS8PrivateKey(key)
			return d
		}()} {
			s := base64.StdEncoding.EncodeToString(der)
			for _, at := range []int{200, 600, 1000} {
				out = append(out, s[at:at+40])
			}
		}
	}
	return out
}
