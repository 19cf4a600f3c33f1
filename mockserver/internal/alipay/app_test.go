package alipay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// bare strips the PEM armour, as Alipay's console shows keys.
func bare(pemText string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(pemText), "\n") {
		if !strings.HasPrefix(l, "-----") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "")
}

func TestGeneratedKeys(t *testing.T) {
	t.Parallel()
	m := mocktest.Start(t)
	ctx := context.Background()
	ans, err := m.Control.AddApp(ctx, mockapi.App{Platform: mockapi.PlatformAlipay, AppID: appID})
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := ans["app_private_key"].(string)
	pub, _ := ans["alipay_public_key"].(string)
	if !strings.HasPrefix(priv, "-----BEGIN PRIVATE KEY-----") || !strings.HasPrefix(pub, "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("answer %v: want a PKCS#8 app private key and a PKIX alipay public key", ans)
	}
	c := &client{t: t, url: m.URL, appID: appID, key: pemPrivate(t, priv), alipayPub: pemPublic(t, pub), hc: m.Control.HTTP}
	wantCode(t, c.node(c.exec(alipay.MethodContentDetect, detectBiz, nil), nodeDetect, true), "10000", "")

	// A second app shares the server's platform key and gets its own pair.
	ans2, err := m.Control.AddApp(ctx, mockapi.App{Platform: mockapi.PlatformAlipay, AppID: "2021000000000043"})
	if err != nil {
		t.Fatal(err)
	}
	if ans2["alipay_public_key"] != pub || ans2["app_private_key"] == priv {
		t.Fatal("want the same platform key and a new app key pair")
	}

	// Private keys are never echoed afterwards.
	resp, err := m.Control.HTTP.Get(m.URL + "/_mock/apps")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), "PRIVATE") || strings.Contains(string(b), bare(priv)[:40]) {
		t.Fatalf("GET /_mock/apps leaks a private key: %s", b)
	}
}

func TestKeyFormats(t *testing.T) {
	t.Parallel()
	appKey := pemPrivate(t, alipay.DemoAppPrivateKeyPEM)
	pkcs1Pub := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&appKey.PublicKey)}))
	p8, _ := x509.MarshalPKCS8PrivateKey(pemPrivate(t, alipay.DemoAlipayPrivateKeyPEM))
	pkcs8Platform := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))
	for _, tc := range []struct {
		name, appPublic, platformPrivate string
	}{
		{"PEM PKIX + PEM PKCS#1", alipay.DemoAppPublicKeyPEM, alipay.DemoAlipayPrivateKeyPEM},
		{"PEM PKCS#1 public + PEM PKCS#8", pkcs1Pub, pkcs8Platform},
		{"bare base64 (console style)", bare(alipay.DemoAppPublicKeyPEM), bare(pkcs8Platform)},
		{"bare base64 wrapped", bare(alipay.DemoAppPublicKeyPEM)[:64] + "\n" + bare(alipay.DemoAppPublicKeyPEM)[64:],
			bare(alipay.DemoAlipayPrivateKeyPEM)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := mocktest.Start(t)
			ans, err := m.Control.AddApp(context.Background(), mockapi.App{Platform: mockapi.PlatformAlipay, AppID: appID,
				AppPublicKey: tc.appPublic, AlipayPrivateKey: tc.platformPrivate})
			if err != nil {
				t.Fatal(err)
			}
			if ans["app_private_key"] != nil || ans["alipay_public_key"] != strings.TrimLeft(alipay.DemoAlipayPublicKeyPEM, "\n") {
				t.Fatalf("answer %v", ans)
			}
			c := &client{t: t, url: m.URL, appID: appID, key: appKey,
				alipayPub: pemPublic(t, alipay.DemoAlipayPublicKeyPEM), hc: m.Control.HTTP}
			wantCode(t, c.node(c.exec(alipay.MethodContentDetect, detectBiz, nil), nodeDetect, true), "10000", "")
		})
	}
}

func TestBadKeys(t *testing.T) {
	t.Parallel()
	m := mocktest.Start(t)
	secret := bare(alipay.DemoAlipayPrivateKeyPEM)
	for _, tc := range []struct {
		name, appPublic, platformPrivate, field string
	}{
		{"garbage public", "not a key", alipay.DemoAlipayPrivateKeyPEM, "app_public_key"},
		{"private as public", alipay.DemoAppPrivateKeyPEM, alipay.DemoAlipayPrivateKeyPEM, "app_public_key"},
		{"broken PEM", "-----BEGIN PUBLIC KEY-----\nAAAA", alipay.DemoAlipayPrivateKeyPEM, "app_public_key"},
		{"public as private", alipay.DemoAppPublicKeyPEM, alipay.DemoAppPublicKeyPEM, "alipay_private_key"},
		{"truncated private", alipay.DemoAppPublicKeyPEM, secret[:len(secret)/2], "alipay_private_key"},
		{"short base64", base64.StdEncoding.EncodeToString([]byte("hello")), alipay.DemoAlipayPrivateKeyPEM, "app_public_key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Control.AddApp(context.Background(), mockapi.App{Platform: mockapi.PlatformAlipay, AppID: appID,
				AppPublicKey: tc.appPublic, AlipayPrivateKey: tc.platformPrivate})
			var ce *mockclient.Error
			if !errors.As(err, &ce) || ce.Status != http.StatusBadRequest || ce.Field != tc.field {
				t.Fatalf("got %v, want 400 on %s", err, tc.field)
			}
			if strings.Contains(ce.Message, secret[:32]) || strings.Contains(ce.Message, "MII") {
				t.Fatalf("error quotes key material: %s", ce.Message)
			}
		})
	}
}

// A 1024-bit key is accepted (legacy RSA apps); keys are RSA only.
func TestSmallKeyAccepted(t *testing.T) {
	t.Parallel()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	m := mocktest.Start(t)
	if _, err := m.Control.AddApp(context.Background(), mockapi.App{Platform: mockapi.PlatformAlipay, AppID: appID,
		AppPublicKey: base64.StdEncoding.EncodeToString(der), AlipayPrivateKey: alipay.DemoAlipayPrivateKeyPEM}); err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, url: m.URL, appID: appID, key: k, alipayPub: pemPublic(t, alipay.DemoAlipayPublicKeyPEM), hc: m.Control.HTTP}
	p := c.params(alipay.MethodContentDetect, detectBiz, map[string]string{"sign_type": "RSA"})
	answer := *c
	answer.answerSignType = "RSA"
	wantCode(t, answer.node(c.call(viaForm, p), nodeDetect, true), "10000", "")
}
