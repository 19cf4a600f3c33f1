package alipay

import (
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/minipush/minipush/mockserver/internal/keyword"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// appKeys are an app's keys, kept in store.App.Extra: the app public key
// requests are verified with, and the platform key answers are signed with.
type appKeys struct {
	appPublic *rsa.PublicKey
	platform  *rsa.PrivateKey
	// certs is set for an app registered in certificate mode.
	certs *appCerts
}

// Endpoints lists the endpoint names faults and quotas can target.
func (e *Emulator) Endpoints() []string { return Endpoints() }

// DefaultLimits are the call limits of a new app.
func (e *Emulator) DefaultLimits() []quota.Limit { return DefaultLimits() }

// PrepareApp reads an Alipay app's keys. app_public_key (PEM or bare
// base64, PKIX or PKCS#1) is the key its requests are verified with;
// without one the mock generates a key pair and answers the app private key
// (PKCS#8 PEM) once. alipay_private_key optionally sets the platform key
// its answers are signed with (default: the server's). The answer always
// carries alipay_public_key, the key clients verify answers with. Private
// keys are never echoed back or logged.
func (e *Emulator) PrepareApp(req mockapi.App, a *store.App) (map[string]any, string, error) {
	answer := map[string]any{}
	k := &appKeys{}
	if strings.TrimSpace(req.AppPublicKey) != "" {
		pub, err := parsePublicKey(req.AppPublicKey)
		if err != nil {
			return nil, "app_public_key", fmt.Errorf("app_public_key must be an RSA public key (PEM or base64, PKIX or PKCS#1): %v", err)
		}
		k.appPublic = pub
	} else {
		priv, err := generateKey()
		if err != nil {
			return nil, "app_public_key", fmt.Errorf("generate an app key pair: %v", err)
		}
		k.appPublic = &priv.PublicKey
		answer["app_private_key"] = privateKeyPEM(priv)
		answer["app_public_key"] = publicKeyPEM(&priv.PublicKey)
	}
	if strings.TrimSpace(req.AlipayPrivateKey) != "" {
		priv, err := parsePrivateKey(req.AlipayPrivateKey)
		if err != nil {
			return nil, "alipay_private_key", fmt.Errorf("alipay_private_key must be an RSA private key (PEM or base64, PKCS#1 or PKCS#8): %v", err)
		}
		k.platform = priv
	} else {
		priv, err := e.platformKey()
		if err != nil {
			return nil, "alipay_private_key", fmt.Errorf("generate the platform key: %v", err)
		}
		k.platform = priv
	}
	answer["alipay_public_key"] = publicKeyPEM(&k.platform.PublicKey)
	if req.CertMode {
		if err := e.issueCerts(req.AppID, k, answer); err != nil {
			return nil, "cert_mode", err
		}
	}
	a.Extra = k
	return answer, "", nil
}

// issueCerts gives a certificate-mode app its certificates: the app
// certificate (for the app public key), the Alipay certificate (for the
// platform key) and the root bundle, answered once as PEM with their SNs.
// The registration answer is the only place they appear (GET /_mock/apps
// never shows them); alipay.open.app.alipaycert.download serves the Alipay
// certificate again, as the platform does.
func (e *Emulator) issueCerts(appID string, k *appKeys, answer map[string]any) error {
	ca, err := e.ca()
	if err != nil {
		return fmt.Errorf("mock CA: %w", err)
	}
	appCert, appPEM, err := ca.issue("app", appID, k.appPublic)
	if err != nil {
		return err
	}
	alipayCert, alipayPEM, err := ca.issue("alipay", appID, &k.platform.PublicKey)
	if err != nil {
		return err
	}
	k.certs = &appCerts{appSN: certSN(appCert), alipaySN: certSN(alipayCert), rootSN: ca.rootSN, alipayCertPEM: alipayPEM}
	answer["app_cert"], answer["alipay_cert"], answer["alipay_root_cert"] = appPEM, alipayPEM, ca.bundle
	answer["app_cert_sn"], answer["alipay_cert_sn"], answer["alipay_root_cert_sn"] = k.certs.appSN, k.certs.alipaySN, k.certs.rootSN
	return nil
}

// CheckKeywordKey: templates number their keywords ("keyword1"); typed
// WeChat-style keys ("thing1") are accepted too and get their type's rule.
func (e *Emulator) CheckKeywordKey(key string) error { return keyword.CheckNumberedKey(key) }
