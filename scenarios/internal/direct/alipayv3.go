package direct

import (
	"bytes"
	"context"
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// AlipayV3SendPath is templatemessage.send on Alipay OpenAPI v3.
const AlipayV3SendPath = "/v3/alipay/open/app/mini/templatemessage/send"

// AlipayCerts is what an SDK configured in certificate mode derives from
// the three PEM files: the SNs it sends and the Alipay certificate's SN and
// key it checks answers against.
type AlipayCerts struct {
	AppCertSN, RootCertSN, AlipayCertSN string
	AlipayCertKey                       *rsa.PublicKey
}

// NewAlipayCerts reads the PEMs as the SDKs do (alipay-sdk-java-all
// AntCertificationUtil.getRootCertSN, go-pay/gopay alipay GetCertSN /
// GetRootCertSN): SN = hex MD5 of the issuer DN and the decimal serial; the
// root SN joins those of the RSA-signed roots with "_".
func NewAlipayCerts(appCert, alipayCert, rootBundle string) (*AlipayCerts, error) {
	app, err := firstCert(appCert)
	if err != nil {
		return nil, fmt.Errorf("app_cert: %w", err)
	}
	ali, err := firstCert(alipayCert)
	if err != nil {
		return nil, fmt.Errorf("alipay_cert: %w", err)
	}
	key, ok := ali.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("alipay_cert: not an RSA key")
	}
	var roots []string
	rest := []byte(rootBundle)
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			continue
		}
		switch c.SignatureAlgorithm {
		case x509.SHA1WithRSA, x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
			x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS, x509.MD5WithRSA, x509.MD2WithRSA:
			roots = append(roots, certSN(c))
		}
	}
	if len(roots) == 0 {
		return nil, errors.New("alipay_root_cert: no RSA root")
	}
	return &AlipayCerts{AppCertSN: certSN(app), AlipayCertSN: certSN(ali), RootCertSN: strings.Join(roots, "_"), AlipayCertKey: key}, nil
}

func firstCert(s string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("not PEM")
	}
	return x509.ParseCertificate(b.Bytes)
}

func certSN(c *x509.Certificate) string {
	sum := md5.Sum([]byte(c.Issuer.String() + c.SerialNumber.String()))
	return hex.EncodeToString(sum[:])
}

// AlipayV3Options bend one v3 call.
type AlipayV3Options struct {
	// TamperSignature flips a bit of the signature after signing.
	TamperSignature bool
}

// AlipayV3Send sends m over OpenAPI v3, signed as alipay-sdk-java-all v3
// AlipayConfigUtil.sign does ("<authString>\nPOST\n<path>\n<body>\n"), and
// checks the answer's signature as AlipayConfigUtil.verify does
// ("<alipay-timestamp>\n<alipay-nonce>\n<body>\n"; in certificate mode with
// the key of the certificate named by alipay-sn). Failures are coded
// "<status>/<code>" ("401/invalid-signature").
func (c *Client) AlipayV3Send(ctx context.Context, app App, m Message, o *AlipayV3Options) (Answer, AlipayReply, error) {
	if o == nil {
		o = &AlipayV3Options{}
	}
	if app.AlipayAppKey == nil {
		return Answer{}, AlipayReply{}, errors.New("alipay app has no private key to sign with")
	}
	data, _ := json.Marshal(keywordValues(m.Data))
	body := map[string]string{"user_template_id": m.TemplateID, "page": m.Page, "data": string(data)}
	if isAlipayUserID(m.To) {
		body["to_user_id"] = m.To
	} else {
		body["to_open_id"] = m.To
	}
	raw, _ := json.Marshal(body)
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	auth := "app_id=" + app.AppID
	if app.AlipayCerts != nil {
		auth += ",app_cert_sn=" + app.AlipayCerts.AppCertSN
	}
	auth += ",nonce=" + hex.EncodeToString(nonce) + ",timestamp=" + strconv.FormatInt(c.Now().UnixMilli(), 10)
	content := auth + "\n" + http.MethodPost + "\n" + AlipayV3SendPath + "\n" + string(raw) + "\n"
	d := sha256.Sum256([]byte(content))
	sig, err := rsa.SignPKCS1v15(rand.Reader, app.AlipayAppKey, crypto.SHA256, d[:])
	if err != nil {
		return Answer{}, AlipayReply{}, err
	}
	if o.TamperSignature {
		sig[len(sig)/2] ^= 1
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+AlipayV3SendPath, bytes.NewReader(raw))
	if err != nil {
		return Answer{}, AlipayReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "ALIPAY-SHA256withRSA "+auth+",sign="+base64.StdEncoding.EncodeToString(sig))
	if app.AlipayCerts != nil {
		req.Header.Set("alipay-root-cert-sn", app.AlipayCerts.RootCertSN)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Answer{}, AlipayReply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Answer{}, AlipayReply{}, err
	}
	reply := AlipayReply{SignedContent: content, Signed: resp.Header.Get("alipay-signature") != ""}
	reply.Verified = reply.Signed && verifyV3Answer(app, resp.Header, b)
	ans := Answer{OK: resp.StatusCode == http.StatusOK, Code: "0", Status: resp.StatusCode, Body: string(b)}
	if !ans.OK {
		var e struct{ Code, Message string }
		if json.Unmarshal(b, &e) != nil || e.Code == "" {
			return httpFailure(resp.StatusCode, b), reply, nil
		}
		ans.Code, ans.Message, reply.SubMsg = strconv.Itoa(resp.StatusCode)+"/"+e.Code, e.Message, e.Message
	}
	return ans, reply, nil
}

func verifyV3Answer(app App, h http.Header, body []byte) bool {
	pub := app.AlipayPublicKey
	if app.AlipayCerts != nil {
		if h.Get("alipay-sn") != app.AlipayCerts.AlipayCertSN {
			return false
		}
		pub = app.AlipayCerts.AlipayCertKey
	}
	sig, err := base64.StdEncoding.DecodeString(h.Get("alipay-signature"))
	if err != nil || pub == nil {
		return false
	}
	d := sha256.Sum256([]byte(h.Get("alipay-timestamp") + "\n" + h.Get("alipay-nonce") + "\n" + string(body) + "\n"))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
}
