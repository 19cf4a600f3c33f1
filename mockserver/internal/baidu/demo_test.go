package baidu_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/internal/baidu"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// The demo app loads through the control API and serves a send.
func TestDemoApp(t *testing.T) {
	t.Parallel()
	mm := mocktest.Start(t, mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{baidu.DemoApp()}}))
	m := &mock{t: t, Mock: mm, ctx: context.Background()}
	tok := m.token(baidu.DemoAppKey, baidu.DemoSecret)
	f := url.Values{"template_id": {baidu.DemoTemplateID}, "touser_openId": {baidu.DemoUserAlice},
		"subscribe_id": {"demo-1"}, "data": {`{"keyword1":{"value":"体检"},"keyword2":{"value":"2025年3月14日 15:00"}}`}}
	wantErrno(t, m.send(tok, f), baidu.ErrnoOK)
	if got := len(m.messages()); got != 1 {
		t.Fatalf("%d messages, want 1", got)
	}
}
