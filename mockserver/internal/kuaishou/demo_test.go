package kuaishou_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/internal/kuaishou"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// The demo app loads through the control API and serves a send.
func TestDemoApp(t *testing.T) {
	t.Parallel()
	mm := mocktest.Start(t, mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{kuaishou.DemoApp()}}))
	m := &mock{t: t, Mock: mm, ctx: context.Background()}
	tok := m.token(kuaishou.DemoAppID, kuaishou.DemoSecret)
	f := url.Values{"app_id": {kuaishou.DemoAppID}, "access_token": {tok}, "template_id": {kuaishou.DemoTemplateID},
		"to_user": {kuaishou.DemoUserAlice}, "page": {"pages/index"},
		"data": {`{"thing01":{"value":"机械键盘"},"thing02":{"value":"顺丰速运"},"date01":{"value":"2025年03月14号"},"amount01":{"value":"299"}}`}}
	wantResult(t, m.do(http.MethodPost, sendPath, f), kuaishou.ResultOK)
	if got := m.remaining(kuaishou.DemoAppID, kuaishou.DemoUserAlice, kuaishou.DemoTemplateID); got != 4 {
		t.Fatalf("demo user has %d credits after one send, want 4", got)
	}
}
