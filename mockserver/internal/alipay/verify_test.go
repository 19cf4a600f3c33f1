package alipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"math/big"
	"testing"
)

// The verifier gives the standard library's verdict on good signatures,
// on every kind of bad one, for both sign types and key sizes.
func TestVerifierMatchesStdlib(t *testing.T) {
	t.Parallel()
	keys := map[string]*rsa.PrivateKey{}
	for _, bits := range []int{1024, 2048, 3072} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		keys[big.NewInt(int64(bits)).String()] = k
	}
	msg := []byte(`app_id=2021000000000000&biz_content={"to_user_id":"2088"}&method=alipay.open.app.mini.templatemessage.send`)
	s1, s256 := sha1.Sum(msg), sha256.Sum256(msg)
	digests := map[crypto.Hash][]byte{crypto.SHA1: s1[:], crypto.SHA256: s256[:]}
	for name, k := range keys {
		other := keys["2048"]
		if name == "2048" {
			other = keys["1024"]
		}
		for h, d := range digests {
			sig, err := rsa.SignPKCS1v15(nil, k, h, d)
			if err != nil {
				t.Fatal(err)
			}
			wrongKey, _ := rsa.SignPKCS1v15(nil, other, h, d)
			otherHash := crypto.SHA256
			if h == crypto.SHA256 {
				otherHash = crypto.SHA1
			}
			flipped := append([]byte(nil), sig...)
			flipped[len(flipped)/2] ^= 1
			tampered := append([]byte(nil), d...)
			tampered[0] ^= 0x80
			overN := k.N.Bytes() // s = N: not a signature
			cases := []struct {
				what   string
				h      crypto.Hash
				digest []byte
				sig    []byte
			}{
				{"good", h, d, sig},
				{"bit flipped in the signature", h, d, flipped},
				{"another digest", h, tampered, sig},
				{"the other hash's name", otherHash, digests[otherHash], sig},
				{"another key's signature", h, d, wrongKey},
				{"too short", h, d, sig[1:]},
				{"too long", h, d, append([]byte{0}, sig...)},
				{"empty", h, d, nil},
				{"equal to the modulus", h, d, overN},
				{"all ones", h, d, func() []byte {
					b := make([]byte, len(sig))
					for i := range b {
						b[i] = 0xff
					}
					return b
				}()},
				{"zero", h, d, make([]byte, len(sig))},
			}
			for _, c := range cases {
				want := rsa.VerifyPKCS1v15(&k.PublicKey, c.h, c.digest, c.sig) == nil
				got := verifyPKCS1v15(&k.PublicKey, c.h, c.digest, c.sig)
				if got != want {
					t.Errorf("%s-bit key, %v, %s: verifier says %v, crypto/rsa %v", name, h, c.what, got, want)
				}
				if c.what == "good" && !got {
					t.Errorf("%s-bit key, %v: a good signature is refused", name, h)
				}
			}
		}
	}
}

// FuzzVerifierMatchesStdlib: for any signature bytes and digest, the
// verifier and crypto/rsa agree.
func FuzzVerifierMatchesStdlib(f *testing.F) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	d := sha256.Sum256([]byte("seed"))
	sig, _ := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
	f.Add(d[:], sig, true)
	f.Add(d[:], sig[:10], false)
	f.Fuzz(func(t *testing.T, digest, sig []byte, sha256Hash bool) {
		h := crypto.SHA1
		if sha256Hash {
			h = crypto.SHA256
		}
		want := rsa.VerifyPKCS1v15(&k.PublicKey, h, digest, sig) == nil
		if got := verifyPKCS1v15(&k.PublicKey, h, digest, sig); got != want {
			t.Fatalf("verifier %v, crypto/rsa %v (digest %x, sig %x)", got, want, digest, sig)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("bench"))
	sig, _ := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
	b.Run("crypto/rsa", func(b *testing.B) {
		for b.Loop() {
			if rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, d[:], sig) != nil {
				b.Fatal("refused")
			}
		}
	})
	b.Run("verifier", func(b *testing.B) {
		for b.Loop() {
			if !verifyPKCS1v15(&k.PublicKey, crypto.SHA256, d[:], sig) {
				b.Fatal("refused")
			}
		}
	})
}
