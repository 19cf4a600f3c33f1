package alipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
)

// signType is the only signature type the client uses: RSA2 =
// SHA256withRSA, PKCS#1 v1.5, base64 (standard alphabet). The legacy "RSA"
// (SHA1withRSA) is not offered: Alipay has recommended RSA2 for years.
const signType = "RSA2"

// minKeyBits: Alipay's key tool makes 2048-bit RSA2 keys; a shorter key is
// a mistake (or a legacy RSA1 key, which RSA2 signing cannot use).
const (
	minKeyBits = 2048
	maxKeyBits = 8192
)

// Key errors name what is wrong, never the key's text.
var (
	errKeyMissing = errors.New("is required")
	errKeyFormat  = errors.New("is neither PEM nor base64")
	errNotRSA     = errors.New("is not an RSA key")
	errKeySize    = errors.New("must be an RSA key of 2048 to 8192 bits")
)

// keyDER returns the DER bytes of a key given as PEM, or as the bare
// base64 Alipay's console and key tool show (no header lines, possibly
// wrapped or with spaces).
func keyDER(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errKeyMissing
	}
	if strings.Contains(s, "-----BEGIN") {
		b, _ := pem.Decode([]byte(s))
		if b == nil {
			return nil, errors.New("is malformed PEM")
		}
		return b.Bytes, nil
	}
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\n', '\r', '\t':
			return -1
		}
		return r
	}, s)
	der, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		if der, err = base64.RawStdEncoding.DecodeString(clean); err != nil {
			return nil, errKeyFormat
		}
	}
	return der, nil
}

// parsePrivateKey reads the app private key: PKCS#1 (the key tool's
// "non-Java" form, the nodejs SDK's default) or PKCS#8 (the Java form),
// PEM or bare base64. The DER is tried as both, so a PEM label that does
// not match its content is tolerated.
func parsePrivateKey(s string) (*rsa.PrivateKey, error) {
	der, err := keyDER(s)
	if err != nil {
		return nil, err
	}
	var k *rsa.PrivateKey
	if k1, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		k = k1
	} else if k8, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		rk, ok := k8.(*rsa.PrivateKey)
		if !ok {
			return nil, errNotRSA
		}
		k = rk
	} else if _, err := x509.ParsePKIXPublicKey(der); err == nil {
		return nil, errors.New("is a public key, not a private key")
	} else {
		return nil, errors.New("is not a PKCS#1 or PKCS#8 RSA private key")
	}
	if n := k.N.BitLen(); n < minKeyBits || n > maxKeyBits {
		return nil, errKeySize
	}
	k.Precompute()
	return k, nil
}

// parsePublicKey reads the Alipay public key: PKIX "PUBLIC KEY" (what the
// console shows) or PKCS#1 "RSA PUBLIC KEY", PEM or bare base64.
func parsePublicKey(s string) (*rsa.PublicKey, error) {
	der, err := keyDER(s)
	if err != nil {
		return nil, err
	}
	var k *rsa.PublicKey
	if kx, err := x509.ParsePKIXPublicKey(der); err == nil {
		rk, ok := kx.(*rsa.PublicKey)
		if !ok {
			return nil, errNotRSA
		}
		k = rk
	} else if k1, err := x509.ParsePKCS1PublicKey(der); err == nil {
		k = k1
	} else if isPrivateKey(der) {
		return nil, errors.New("is a private key, not a public key")
	} else {
		return nil, errors.New("is not a PKIX or PKCS#1 RSA public key")
	}
	if n := k.N.BitLen(); n < minKeyBits || n > maxKeyBits {
		return nil, errKeySize
	}
	return k, nil
}

func isPrivateKey(der []byte) bool {
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return true
	}
	_, err := x509.ParsePKCS8PrivateKey(der)
	return err == nil
}

// sign makes the base64 SHA256withRSA (PKCS#1 v1.5) signature of content.
func sign(k *rsa.PrivateKey, content string) (string, error) {
	d := sha256.Sum256([]byte(content))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// verify checks a base64 SHA256withRSA signature of content.
func verify(k *rsa.PublicKey, content []byte, sig string) bool {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) == 0 {
		return false
	}
	d := sha256.Sum256(content)
	return rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], raw) == nil
}
