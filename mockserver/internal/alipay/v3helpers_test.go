package alipay_test

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
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// The v3 test client signs as the official SDKs do and verifies answers as
// they do:
//   - request: alipay/alipay-sdk-java-all v3/src/main/java/com/alipay/v3/util/AlipayConfigUtil.java
//     sign(): authString "app_id=…[,app_cert_sn=…],nonce=<UUID>,timestamp=<ms>",
//     content authString\nMETHOD\nURI\nBODY\n[appAuthToken\n], SHA256withRSA,
//     "Authorization: ALIPAY-SHA256withRSA <authString>,sign=<base64>", and
//     the alipay-root-cert-sn header when a root SN is configured;
//   - answer: AlipayConfigUtil.verify(): "<alipay-timestamp>\n<alipay-nonce>\n<body>\n"
//     with the Alipay public key — in certificate mode the key of the cert
//     whose SN is alipay-sn (an unknown SN is an error, "已过期"), like
//     alipay-sdk-nodejs-all's response-alipay-sn-verify-error.
// Certificate SNs are computed as go-pay/gopay alipay/v3/sign.go GetCertSN
// and GetRootCertSN do (cert.Issuer.String() + SerialNumber.String(), MD5;
// the RSA-signed roots joined with "_"), independently of the mock's own
// (raw-issuer) computation.

// v3client is an app calling OpenAPI v3.
type v3client struct {
	t         testing.TB
	url       string
	appID     string
	key       *rsa.PrivateKey
	alipayPub *rsa.PublicKey
	hc        *http.Client
	// Certificate mode: the SNs the SDK computed from the PEMs, and the
	// Alipay certificate's key, known by its SN.
	appCertSN, rootCertSN string
	alipayKeys            map[string]*rsa.PublicKey
	now                   func() time.Time
}

// v3req is a request about to be sent; a test may tamper with it after
// signing.
type v3req struct {
	method, path string // path with query, as signed
	body         []byte
	authString   string
	sign         string
	scheme       string
	header       http.Header
	sendPath     string // the path actually requested (default path)
	noAuth       bool
}

type v3reply struct {
	status int
	header http.Header
	body   []byte
}

// authString is the Java SDK's order: app_id, app_cert_sn, nonce, timestamp.
func (c *v3client) authString(ts time.Time) string {
	s := "app_id=" + c.appID
	if c.appCertSN != "" {
		s += ",app_cert_sn=" + c.appCertSN
	}
	return s + ",nonce=" + uuid() + ",timestamp=" + strconv.FormatInt(ts.UnixMilli(), 10)
}

func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newReq builds and signs a request; appAuthToken "" sends none.
func (c *v3client) newReq(method, path string, body []byte, appAuthToken string) *v3req {
	now := time.Now()
	if c.now != nil {
		now = c.now()
	}
	r := &v3req{method: method, path: path, body: body, authString: c.authString(now), scheme: alipay.AuthScheme,
		header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}}
	if appAuthToken != "" {
		r.header.Set("alipay-app-auth-token", appAuthToken)
	}
	if c.rootCertSN != "" {
		r.header.Set("alipay-root-cert-sn", c.rootCertSN)
	}
	r.sign = rsaSign(c.t, c.key, "RSA2", string(v3Content(r.authString, method, path, body, appAuthToken)))
	return r
}

func v3Content(authString, method, uri string, body []byte, token string) []byte {
	s := authString + "\n" + method + "\n" + uri + "\n" + string(body) + "\n"
	if token != "" {
		s += token + "\n"
	}
	return []byte(s)
}

func (c *v3client) send(r *v3req) v3reply {
	c.t.Helper()
	p := r.sendPath
	if p == "" {
		p = r.path
	}
	req, err := http.NewRequest(r.method, c.url+p, bytes.NewReader(r.body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header = r.header.Clone()
	if !r.noAuth {
		auth := r.scheme + " " + r.authString
		if r.sign != "" {
			auth += ",sign=" + r.sign
		}
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("v3 %s %s: %v", r.method, p, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return v3reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// post signs and sends a JSON body.
func (c *v3client) post(path string, body any) v3reply {
	c.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.send(c.newReq(http.MethodPost, path, b, ""))
}

// verify checks the answer's signature the SDK way; it returns an error
// naming what failed.
func (c *v3client) verify(r v3reply) error {
	sig, ts, nonce := r.header.Get("alipay-signature"), r.header.Get("alipay-timestamp"), r.header.Get("alipay-nonce")
	if sig == "" || ts == "" || nonce == "" {
		return fmt.Errorf("answer not signed: signature %q timestamp %q nonce %q", sig, ts, nonce)
	}
	pub := c.alipayPub
	if c.appCertSN != "" {
		sn := r.header.Get("alipay-sn")
		if pub = c.alipayKeys[sn]; pub == nil {
			return fmt.Errorf("alipay-sn %q is not the configured Alipay certificate", sn)
		}
	}
	d := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(r.body) + "\n"))
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return err
	}
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], raw)
}

// v3Errorbody is {code, message, links}.
type v3ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Links   []struct {
		Link string `json:"link"`
		Desc string `json:"desc"`
	} `json:"links"`
}

// wantV3Error checks status, code and the error shape; signed says whether
// the answer must carry a verifying signature (every answer to a known app).
func (c *v3client) wantV3Error(r v3reply, status int, code string, signed bool) v3ErrorBody {
	c.t.Helper()
	var e v3ErrorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		c.t.Fatalf("error body is not JSON: %v: %s", err, r.body)
	}
	if r.status != status || e.Code != code {
		c.t.Fatalf("got %d %s (%s), want %d %s", r.status, e.Code, e.Message, status, code)
	}
	if e.Message == "" || len(e.Links) != 1 || !strings.HasPrefix(e.Links[0].Link, "https://open.alipay.com/api/errCheck?traceId=") ||
		e.Links[0].Desc == "" || !strings.HasSuffix(e.Links[0].Link, r.header.Get("alipay-trace-id")) {
		c.t.Fatalf("error shape: %s (trace %q)", r.body, r.header.Get("alipay-trace-id"))
	}
	if signed {
		if err := c.verify(r); err != nil {
			c.t.Fatalf("error answer: %v: %s", err, r.body)
		}
	} else if r.header.Get("alipay-signature") != "" {
		c.t.Fatalf("answer signed, want unsigned: %s", r.body)
	}
	return e
}

// wantV3OK checks a 200 whose signature verifies and returns the body.
func (c *v3client) wantV3OK(r v3reply) []byte {
	c.t.Helper()
	if r.status != http.StatusOK {
		c.t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	if err := c.verify(r); err != nil {
		c.t.Fatalf("answer signature: %v: %s", err, r.body)
	}
	return r.body
}

const (
	pathSendV3  = "/v3/alipay/open/app/mini/templatemessage/send"
	pathOAuthV3 = "/v3/alipay/system/oauth/token"
)

// sendBodyV3 is a valid v3 send for user: the gateway's biz_content.
func sendBodyV3(user string) map[string]string {
	var m map[string]string
	_ = json.Unmarshal([]byte(sendBiz(user)), &m)
	return m
}

// sdkCertSN is gopay's GetCertSN on the first PEM block.
func sdkCertSN(t testing.TB, pemText string) string {
	t.Helper()
	b, _ := pem.Decode([]byte(pemText))
	if b == nil {
		t.Fatalf("not PEM: %q", pemText)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(c.Issuer.String() + c.SerialNumber.String()))
	return hex.EncodeToString(sum[:])
}

// sdkRootCertSN is gopay's GetRootCertSN: split on END CERTIFICATE, keep
// the RSA-signed ones.
func sdkRootCertSN(t testing.TB, pemText string) string {
	t.Helper()
	rsaAlgs := map[x509.SignatureAlgorithm]bool{x509.MD2WithRSA: true, x509.MD5WithRSA: true, x509.SHA1WithRSA: true,
		x509.SHA256WithRSA: true, x509.SHA384WithRSA: true, x509.SHA512WithRSA: true,
		x509.SHA256WithRSAPSS: true, x509.SHA384WithRSAPSS: true, x509.SHA512WithRSAPSS: true}
	var sns []string
	const end = "-----END CERTIFICATE-----"
	for _, part := range strings.Split(pemText, end) {
		b, _ := pem.Decode([]byte(part + end))
		if b == nil {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil || !rsaAlgs[c.SignatureAlgorithm] {
			continue
		}
		sum := md5.Sum([]byte(c.Issuer.String() + c.SerialNumber.String()))
		sns = append(sns, hex.EncodeToString(sum[:]))
	}
	return strings.Join(sns, "_")
}

func certKey(t testing.TB, pemText string) *rsa.PublicKey {
	t.Helper()
	b, _ := pem.Decode([]byte(pemText))
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.PublicKey.(*rsa.PublicKey)
}

// certApp is a certificate-mode app's registration answer.
type certApp struct {
	answer                          map[string]any
	appCert, alipayCert, rootBundle string
}

const certAppID = "2021000000000077"

// startCert runs a mock with a certificate-mode app (demo app key, demo
// platform key, same template and user as start) and returns a gateway
// client and a v3 client configured from the answer's PEMs, as an SDK is.
func startCert(t testing.TB) (*mocktest.Mock, *client, *v3client, certApp) {
	t.Helper()
	m := mocktest.Start(t)
	ans, err := m.Control.AddApp(context.Background(), mockapi.App{Platform: mockapi.PlatformAlipay, AppID: certAppID,
		AppPublicKey: alipay.DemoAppPublicKeyPEM, AlipayPrivateKey: alipay.DemoAlipayPrivateKeyPEM, CertMode: true,
		Users: []string{userID},
		Templates: []mockapi.Template{{TemplateID: templateID, Title: "订单状态",
			Keywords: []string{"character_string1", "thing2", "time3"}}},
	})
	if err != nil {
		t.Fatalf("add app: %v", err)
	}
	ca := certApp{answer: ans}
	var ok [3]bool
	ca.appCert, ok[0] = ans["app_cert"].(string)
	ca.alipayCert, ok[1] = ans["alipay_cert"].(string)
	ca.rootBundle, ok[2] = ans["alipay_root_cert"].(string)
	if !ok[0] || !ok[1] || !ok[2] {
		t.Fatalf("answer lacks the certificates: %v", ans)
	}
	key := pemPrivate(t, alipay.DemoAppPrivateKeyPEM)
	alipaySN := sdkCertSN(t, ca.alipayCert)
	v2 := &client{t: t, url: m.URL, appID: certAppID, key: key, alipayPub: certKey(t, ca.alipayCert), hc: m.Control.HTTP}
	v3 := &v3client{t: t, url: m.URL, appID: certAppID, key: key, hc: m.Control.HTTP,
		appCertSN: sdkCertSN(t, ca.appCert), rootCertSN: sdkRootCertSN(t, ca.rootBundle),
		alipayKeys: map[string]*rsa.PublicKey{alipaySN: certKey(t, ca.alipayCert)}}
	return m, v2, v3, ca
}

// startV3 is start with a v3 client of the public-key app.
func startV3(t testing.TB) (*mocktest.Mock, *v3client) {
	t.Helper()
	m, c := start(t)
	return m, &v3client{t: t, url: m.URL, appID: appID, key: c.key, alipayPub: c.alipayPub, hc: c.hc}
}
