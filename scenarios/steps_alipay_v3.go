package scenarios

import (
	"fmt"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/scenarios/internal/direct"
)

// Alipay OpenAPI v3 and certificate mode (features/alipay_v3_certificates.feature).

// alipayCertApp registers an Alipay mini-program in certificate mode,
// called directly (not served by the sender): the mock's CA issues its
// certificates, which the direct client reads as an SDK reads the files.
func (s *scenario) alipayCertApp() error {
	spec := platforms["alipay"]
	n := int(s.w.seq.Add(1))
	a := &app{spec: spec, users: map[string]string{}, lastDirect: map[string]time.Time{}, keys: spec.keywords,
		names: spec.names, appID: spec.appID(s.w.no, 1_000_000+n)}
	k := s.suite.keys
	ans, err := s.mock().AddApp(s.ctx, mockapi.App{Platform: "alipay", AppID: a.appID, CertMode: true,
		AppPublicKey: publicPEM(&k.app.PublicKey), AlipayPrivateKey: privatePEM(k.platform),
		Templates: []mockapi.Template{spec.template(templateID, nil)}})
	if err != nil {
		return fmt.Errorf("register the alipay app in certificate mode: %w", err)
	}
	pems := make([]string, 3)
	for i, f := range []string{"app_cert", "alipay_cert", "alipay_root_cert"} {
		if pems[i], _ = ans[f].(string); pems[i] == "" {
			return fmt.Errorf("the registration answer has no %s", f)
		}
	}
	certs, err := direct.NewAlipayCerts(pems[0], pems[1], pems[2])
	if err != nil {
		return err
	}
	a.direct = direct.App{Platform: "alipay", AppID: a.appID, AlipayAppKey: k.app, AlipayPublicKey: &k.platform.PublicKey,
		AlipayCerts: certs}
	s.apps = append(s.apps, a)
	return nil
}

func (s *scenario) alipayV3Send(user string, o *direct.AlipayV3Options) error {
	a, err := s.app()
	if err != nil {
		return err
	}
	if a.spec.name != "alipay" {
		return fmt.Errorf("OpenAPI v3 is Alipay's: the app is on %s", a.spec.name)
	}
	ans, reply, err := s.directClient().AlipayV3Send(s.ctx, a.direct, s.directMessage(a, user, nil), o)
	if err != nil {
		return err
	}
	s.answer, s.reply = ans, reply
	s.answers = append(s.answers, ans)
	return nil
}

func (s *scenario) alipayV3SendPlain(user string) error { return s.alipayV3Send(user, nil) }

func (s *scenario) alipayV3SendTampered(user string) error {
	return s.alipayV3Send(user, &direct.AlipayV3Options{TamperSignature: true})
}
