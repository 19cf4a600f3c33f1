package alipay

import (
	"crypto"
	"crypto/rsa"
	"crypto/subtle"
	"sync"

	"filippo.io/bigmod"
)

// An app's public key verifies the signature of every request it makes
// (both sign types, gateway and v3). rsa.VerifyPKCS1v15 rebuilds the key's
// Montgomery modulus (bigmod.NewModulus: R² mod N) on every call — about
// half the cost of a 2048-bit verification — and the standard library
// offers no way to keep it. filippo.io/bigmod is that same code (the
// standard library's crypto/internal/fips140/bigmod, published by its
// author), so the verifier below builds the modulus once per key and then
// does exactly what rsa.VerifyPKCS1v15 does per signature: s < N, s^e mod
// N, compared in constant time with the PKCS #1 v1.5 encoding of the
// request's own digest (RFC 8017 §8.2.2). Nothing is cached per request:
// every request's exact bytes are hashed and verified.
// TestVerifierMatchesStdlib and FuzzVerifierMatchesStdlib hold it to the
// standard library's verdict.
type verifier struct {
	n    *bigmod.Modulus
	e    uint
	size int // bytes of N: a signature is exactly this long
}

// verifiers holds one verifier per public key (keys live as long as their
// app; a key replaced by the control API leaves a small entry behind).
var verifiers sync.Map // *rsa.PublicKey → *verifier (nil: use the standard library)

func verifierFor(pub *rsa.PublicKey) *verifier {
	if v, ok := verifiers.Load(pub); ok {
		return v.(*verifier)
	}
	var v *verifier
	// The shapes the standard library accepts for a public key
	// (crypto/rsa checkPublicKeySize and its exponent rules); anything
	// else falls back to it.
	if pub.N != nil && pub.N.Sign() > 0 && pub.N.Bit(0) == 1 && pub.N.BitLen() >= 1024 && pub.E >= 3 && pub.E%2 == 1 {
		if n, err := bigmod.NewModulus(pub.N.Bytes()); err == nil {
			v = &verifier{n: n, e: uint(pub.E), size: pub.Size()}
		}
	}
	actual, _ := verifiers.LoadOrStore(pub, v)
	return actual.(*verifier)
}

// digestInfo is the DER prefix of each hash's DigestInfo (RFC 8017 §9.2,
// note 1), as crypto/rsa has them.
var digestInfo = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
}

// verifyPKCS1v15 reports whether sig is pub's PKCS #1 v1.5 signature of
// the digest hashed (made with h).
func verifyPKCS1v15(pub *rsa.PublicKey, h crypto.Hash, hashed, sig []byte) bool {
	v := verifierFor(pub)
	prefix, ok := digestInfo[h]
	if v == nil || !ok || len(hashed) != h.Size() {
		return rsa.VerifyPKCS1v15(pub, h, hashed, sig) == nil
	}
	if len(sig) != v.size {
		return false
	}
	s, err := bigmod.NewNat().SetBytes(sig, v.n)
	if err != nil {
		return false // s ≥ N
	}
	em := bigmod.NewNat().ExpShortVarTime(s, v.e, v.n).Bytes(v.n)
	// EM = 0x00 || 0x01 || PS (0xff…, at least 8) || 0x00 || T.
	tLen := len(prefix) + len(hashed)
	if v.size < tLen+11 {
		return false
	}
	want := make([]byte, v.size)
	want[1] = 1
	for i := 2; i < v.size-tLen-1; i++ {
		want[i] = 0xff
	}
	copy(want[v.size-tLen:], prefix)
	copy(want[v.size-len(hashed):], hashed)
	return subtle.ConstantTimeCompare(em, want) == 1
}
