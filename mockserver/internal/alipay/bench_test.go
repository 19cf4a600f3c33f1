package alipay_test

import (
	"context"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// BenchmarkAlipaySend measures a full send over HTTP: the client signs
// (SHA256withRSA) every request, the mock verifies it, checks and delivers
// the message, and signs its answer.
func BenchmarkAlipaySend(b *testing.B) {
	m, c := start(b)
	if _, err := m.Control.Grant(context.Background(), mockapi.Grant{Platform: mockapi.PlatformAlipay, AppID: appID,
		OpenID: userID, TemplateID: templateID, LongTerm: true}); err != nil {
		b.Fatal(err)
	}
	biz := sendBiz(userID)
	for b.Loop() {
		r := c.exec(alipay.MethodTemplateSend, biz, nil)
		if r.status != 200 || len(r.body) < 60 || r.body[len(nodeSend)+4:len(nodeSend)+20] != `{"code":"10000",` {
			b.Fatalf("answer %d %s", r.status, r.body)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
