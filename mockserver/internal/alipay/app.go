package alipay

import (
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/minipush/minipush/internal/keyword"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// appKeys are an app's keys, kept in store.App.Extra: the app public key
// requests are verified with, and the platform key answers are signed with.
type appKeys struct {
	appPublic *rsa.PublicKey
	platform  *rsa.PrivateKey
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
	a.Extra = k
	return answer, "", nil
}

// CheckKeywordKey: templates number their keywords ("keyword1"); typed
// WeChat-style keys ("thing1") are accepted too and get their type's rule.
func (e *Emulator) CheckKeywordKey(key string) error { return keyword.CheckNumberedKey(key) }
