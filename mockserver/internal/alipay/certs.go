package alipay

import (
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Certificate mode ("公钥证书模式"): instead of exchanging bare public keys,
// the app holds an app certificate, an Alipay certificate and Alipay's root
// certificates, all issued by Alipay's CA. Requests name the app
// certificate and the root bundle by serial number (app_cert_sn,
// alipay_root_cert_sn); answers name the Alipay certificate
// (alipay_cert_sn, v3: the alipay-sn header). The mock is its own CA: it
// issues the three for an app registered with "cert_mode": true.
//
// The CA is deterministic: its key is fixed (mockcakey.go), certificate
// serials are derived from what they certify and validity dates are fixed,
// so the same app id and key always get byte-identical certificates.

// rsaSignatureOIDPrefix selects the certificates of a root bundle that count
// in alipay_root_cert_sn: those signed with an RSA algorithm (PKCS#1 OIDs),
// as alipay-sdk-java-all AntCertificationUtil.getRootCertSN
// (c.getSigAlgOID().startsWith("1.2.840.113549.1.1")) and
// alipay-sdk-nodejs-all src/antcertutil.ts getRootCertSN do.
const rsaSignatureOIDPrefix = "1.2.840.113549.1.1"

// Validity of every certificate the mock issues (fixed, for determinism).
// UNCONFIRMED: the lifetime of real Alipay certificates (a few years).
var (
	certNotBefore = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter  = time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Subjects of the mock CA, shaped like Alipay's ("CN=Ant Financial
// Certification Authority R1,OU=Certification Authority,O=Ant Financial,C=CN").
var (
	rootR1Name = pkix.Name{Country: []string{"CN"}, Organization: []string{"Minipush Mock"},
		OrganizationalUnit: []string{"Certification Authority"}, CommonName: "Minipush Mock Certification Authority R1"}
	rootR2Name = pkix.Name{Country: []string{"CN"}, Organization: []string{"Minipush Mock"},
		OrganizationalUnit: []string{"Certification Authority"}, CommonName: "Minipush Mock Certification Authority"}
	rootE1Name = pkix.Name{Country: []string{"CN"}, Organization: []string{"Minipush Mock"},
		OrganizationalUnit: []string{"Certification Authority"}, CommonName: "Minipush Mock Certification Authority E1"}
)

// certAuthority issues the mock's certificates. Alipay's real root bundle
// (alipayRootCert.crt) holds two RSA roots and non-RSA ones (SM2, ECC); the
// mock's holds two RSA roots (R1 issues every leaf, R2 is a legacy twin)
// and an Ed25519 root (E1), so the root SN is two SNs joined with "_" and
// the non-RSA filter matters.
type certAuthority struct {
	key    *rsa.PrivateKey
	issuer *x509.Certificate // R1
	bundle string            // alipay_root_cert: R1, R2, E1 (PEM)
	rootSN string
}

func newCertAuthority() (*certAuthority, error) {
	key, err := parsePrivateKey(mockCAKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("mock CA key: %w", err)
	}
	ca := &certAuthority{key: key}
	var bundle strings.Builder
	for _, r := range []struct {
		name   pkix.Name
		serial int64
		alg    x509.SignatureAlgorithm
	}{
		{rootR1Name, 0x4d6f636b5231, x509.SHA256WithRSA}, // "MockR1"
		{rootR2Name, 0x4d6f636b5232, x509.SHA384WithRSA}, // "MockR2"
	} {
		der, err := x509.CreateCertificate(rand.Reader, caTemplate(r.name, r.serial, r.alg), caTemplate(r.name, r.serial, r.alg), &key.PublicKey, key)
		if err != nil {
			return nil, fmt.Errorf("issue mock root %s: %w", r.name.CommonName, err)
		}
		if ca.issuer == nil {
			if ca.issuer, err = x509.ParseCertificate(der); err != nil {
				return nil, err
			}
		}
		_ = pem.Encode(&bundle, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	// E1: Ed25519 (deterministic signatures) from a fixed seed.
	seed := sha256.Sum256([]byte("minipush mock root E1"))
	edKey := ed25519.NewKeyFromSeed(seed[:])
	e1 := caTemplate(rootE1Name, 0x4d6f636b4531, x509.PureEd25519)
	der, err := x509.CreateCertificate(rand.Reader, e1, e1, edKey.Public(), edKey)
	if err != nil {
		return nil, fmt.Errorf("issue mock root E1: %w", err)
	}
	_ = pem.Encode(&bundle, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	ca.bundle = bundle.String()
	if ca.rootSN, err = RootCertSN(ca.bundle); err != nil {
		return nil, err
	}
	return ca, nil
}

func caTemplate(name pkix.Name, serial int64, alg x509.SignatureAlgorithm) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: name, Issuer: name,
		NotBefore: certNotBefore, NotAfter: certNotAfter,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
		SignatureAlgorithm: alg,
	}
}

// issue makes a leaf certificate for pub, issued by R1. role and owner name
// it ("app" / "alipay", the app id); the serial is derived from them and
// the key, so re-registering the same app with the same key gives the same
// certificate.
func (ca *certAuthority) issue(role, owner string, pub *rsa.PublicKey) (*x509.Certificate, string, error) {
	pkixDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256([]byte(role + "\x00" + owner + "\x00" + string(pkixDER)))
	sum[0] &= 0x7f // positive
	sum[0] |= 0x10 // and 16 bytes long, like Alipay's serials
	subject := pkix.Name{Country: []string{"CN"}, Organization: []string{owner}, OrganizationalUnit: []string{"Alipay"},
		CommonName: owner}
	if role == "alipay" {
		subject.Organization = []string{"Minipush Mock Alipay"}
		subject.CommonName = "Minipush Mock Alipay-" + owner
	}
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(sum[:16]), Subject: subject,
		NotBefore: certNotBefore, NotAfter: certNotAfter,
		KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageKeyEncipherment,
		SignatureAlgorithm: x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.issuer, pub, ca.key)
	if err != nil {
		return nil, "", fmt.Errorf("issue the %s certificate: %w", role, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, "", err
	}
	return c, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

// appCerts are what a certificate-mode app's requests and answers name.
type appCerts struct {
	appSN, alipaySN, rootSN string
	alipayCertPEM           string // served by alipay.open.app.alipaycert.download
}

// maxCertPEM bounds what CertSN and RootCertSN read (a root bundle is a
// few KiB).
const maxCertPEM = 1 << 20

var errNoCertificate = errors.New("no PEM CERTIFICATE block")

// CertSN is a certificate's serial number as Alipay's SDKs compute it
// (app_cert_sn, alipay_cert_sn): the hex MD5 of the issuer's distinguished
// name in RFC 2253 order ("CN=…,OU=…,O=…,C=…") followed by the serial
// number in decimal — alipay-sdk-java-all AntCertificationUtil /
// AlipaySignature.getCertSN (getIssuerX500Principal().getName() +
// getSerialNumber()), alipay-sdk-nodejs-all src/antcertutil.ts getCertSN,
// go-pay/gopay alipay GetCertSN. pemText's first CERTIFICATE block is read.
func CertSN(pemText string) (string, error) {
	der, err := firstCertDER(pemText)
	if err != nil {
		return "", err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return "", fmt.Errorf("parse certificate: %w", err)
	}
	return certSN(c), nil
}

// RootCertSN is alipay_root_cert_sn: the CertSN of every RSA-signed
// certificate of the bundle, in order, joined with "_"; other certificates
// (SM2, ECC, Ed25519) are skipped. An error when none is RSA-signed (the
// Java SDK then throws "AlipayRootCert Is Invalid").
func RootCertSN(pemText string) (string, error) {
	if len(pemText) > maxCertPEM {
		return "", errors.New("root certificate bundle over 1 MiB")
	}
	rest := []byte(pemText)
	var sns []string
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		// The signature algorithm is read from the DER itself, not from
		// x509's enum, so an RSA OID Go does not know still counts and a
		// certificate Go cannot parse (SM2) is skipped, as the SDKs do.
		var outer struct {
			TBS asn1.RawValue
			Alg pkix.AlgorithmIdentifier
			Sig asn1.BitString
		}
		if _, err := asn1.Unmarshal(b.Bytes, &outer); err != nil {
			return "", fmt.Errorf("root certificate %d: %w", len(sns)+1, err)
		}
		if !strings.HasPrefix(outer.Alg.Algorithm.String(), rsaSignatureOIDPrefix+".") {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return "", fmt.Errorf("parse RSA root certificate: %w", err)
		}
		sns = append(sns, certSN(c))
	}
	if len(sns) == 0 {
		return "", errors.New("no RSA-signed certificate in the root bundle")
	}
	return strings.Join(sns, "_"), nil
}

func firstCertDER(pemText string) ([]byte, error) {
	if len(pemText) > maxCertPEM {
		return nil, errors.New("certificate over 1 MiB")
	}
	rest := []byte(pemText)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errNoCertificate
		}
		if b.Type == "CERTIFICATE" {
			return b.Bytes, nil
		}
	}
}

// certSN: the issuer DN is rebuilt from the raw issuer in the certificate's
// own attribute order (reversed, RFC 2253), as Java's X500Principal.getName
// does, rather than from Go's re-ordered pkix.Name.
func certSN(c *x509.Certificate) string {
	dn := c.Issuer.String()
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(c.RawIssuer, &rdn); err == nil && len(rest) == 0 {
		dn = rdn.String()
	}
	sum := md5.Sum([]byte(dn + c.SerialNumber.String()))
	return hex.EncodeToString(sum[:])
}
