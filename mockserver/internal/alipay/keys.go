package alipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
)

// Signature types the gateway accepts. RSA2 is SHA256withRSA; RSA is the
// legacy SHA1withRSA, still accepted by the platform for old apps and cheap
// to support. Both are PKCS#1 v1.5 signatures, base64 (standard alphabet).
const (
	SignTypeRSA2 = "RSA2"
	SignTypeRSA  = "RSA"
)

// Key sizes accepted for registered keys. Alipay's key tool makes 2048-bit
// keys; 1024 is allowed for legacy RSA (SHA1) apps.
const (
	minKeyBits = 1024
	maxKeyBits = 8192
	genKeyBits = 2048
)

var errNotRSA = errors.New("not an RSA key")

// keyDER returns the DER bytes of a key given as PEM, or as the bare base64
// that Alipay's console and key tool show (no header lines, possibly
// wrapped). The DER is then tried as each encoding the caller accepts, so a
// PEM block type that does not match its content is tolerated.
func keyDER(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "-----BEGIN") {
		b, _ := pem.Decode([]byte(s))
		if b == nil {
			return nil, errors.New("malformed PEM")
		}
		return b.Bytes, nil
	}
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	der, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		if der, err = base64.RawStdEncoding.DecodeString(clean); err != nil {
			return nil, errors.New("neither PEM nor base64")
		}
	}
	return der, nil
}

// parsePublicKey reads an RSA public key: PEM "PUBLIC KEY" (PKIX/X.509
// SubjectPublicKeyInfo) or "RSA PUBLIC KEY" (PKCS#1), or the same DER as bare
// base64. Errors never quote the key.
func parsePublicKey(s string) (*rsa.PublicKey, error) {
	der, err := keyDER(s)
	if err != nil {
		return nil, err
	}
	var pub *rsa.PublicKey
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, errNotRSA
		}
		pub = rk
	} else if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		pub = k
	} else {
		return nil, errors.New("not a PKIX or PKCS#1 RSA public key")
	}
	if n := pub.N.BitLen(); n < minKeyBits || n > maxKeyBits {
		return nil, errors.New("RSA key size must be between 1024 and 8192 bits")
	}
	return pub, nil
}

// parsePrivateKey reads an RSA private key: PEM "RSA PRIVATE KEY" (PKCS#1)
// or "PRIVATE KEY" (PKCS#8), or the same DER as bare base64 (Alipay's key
// tool shows PKCS#8 for Java and PKCS#1 for other languages). Errors never
// quote the key.
func parsePrivateKey(s string) (*rsa.PrivateKey, error) {
	der, err := keyDER(s)
	if err != nil {
		return nil, err
	}
	var priv *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		priv = k
	} else if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errNotRSA
		}
		priv = rk
	} else {
		return nil, errors.New("not a PKCS#1 or PKCS#8 RSA private key")
	}
	if n := priv.N.BitLen(); n < minKeyBits || n > maxKeyBits {
		return nil, errors.New("RSA key size must be between 1024 and 8192 bits")
	}
	priv.Precompute()
	return priv, nil
}

// publicKeyPEM encodes a public key as PKIX PEM ("PUBLIC KEY"), the form
// the SDKs take for the alipay public key.
func publicKeyPEM(k *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil { // cannot happen for an *rsa.PublicKey
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// privateKeyPEM encodes a private key as PKCS#8 PEM ("PRIVATE KEY"): the
// format Alipay's key tool produces by default and the Java SDK requires.
func privateKeyPEM(k *rsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil { // cannot happen for an *rsa.PrivateKey
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func generateKey() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, genKeyBits) }

// hashFor returns the digest of content for a sign type.
func hashFor(signType string, content []byte) (crypto.Hash, []byte) {
	if signType == SignTypeRSA {
		d := sha1.Sum(content)
		return crypto.SHA1, d[:]
	}
	d := sha256.Sum256(content)
	return crypto.SHA256, d[:]
}

// verify checks a base64 PKCS#1 v1.5 signature of content.
func verify(pub *rsa.PublicKey, signType string, content []byte, sig string) bool {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) == 0 {
		return false
	}
	h, d := hashFor(signType, content)
	return verifyPKCS1v15(pub, h, d, raw)
}

// sign makes a base64 PKCS#1 v1.5 signature of content.
func sign(priv *rsa.PrivateKey, signType string, content []byte) (string, error) {
	// PKCS#1 v1.5 signatures are deterministic: the same node text signed
	// with the same key always gives the same bytes. Answers repeat (every
	// successful send answers {"code":"10000","msg":"Success"}), so a small
	// cache returns exactly what signing would, without the ~1 ms of RSA.
	k := sigKey{priv, signType, string(content)}
	if len(content) <= maxCachedNode {
		if v, ok := sigCache.Load(k); ok {
			return v.(string), nil
		}
	}
	h, d := hashFor(signType, content)
	raw, err := rsa.SignPKCS1v15(nil, priv, h, d)
	if err != nil {
		return "", err
	}
	out := base64.StdEncoding.EncodeToString(raw)
	if len(content) <= maxCachedNode {
		if sigCacheSize.Add(1) > maxCachedSigs { // bounded: start over
			sigCache.Clear()
			sigCacheSize.Store(0)
		}
		sigCache.Store(k, out)
	}
	return out, nil
}

type sigKey struct {
	priv     *rsa.PrivateKey
	signType string
	content  string
}

const (
	maxCachedNode = 512
	maxCachedSigs = 4096
)

var (
	sigCache     sync.Map // sigKey → base64 signature
	sigCacheSize atomic.Int64
)
