package direct_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/scenarios/internal/direct"
)

// Every platform: a user with one grant receives the message sent with the
// platform's own token and send calls; a second send is refused.
func TestSendOnEveryPlatform(t *testing.T) {
	t.Parallel()
	mock := mocktest.Start(t)
	ctx := context.Background()
	appKey, platformKey := rsaKey(t), rsaKey(t)

	cases := []struct {
		platform, appID, user string
		keywords              []string
		names                 map[string]string
		data                  map[string]string
		inboxKey              string
		notSubscribed         string
	}{
		{direct.WeChat, "wxdirect000000001", "o_direct_user", []string{"thing1", "time2"}, nil,
			map[string]string{"thing1": "order A1", "time2": "2026-01-02 15:04"}, "thing1", "43101"},
		{direct.Alipay, "2021000000000042", "2088000000000042", []string{"thing1", "time2"}, nil,
			map[string]string{"keyword1": "order A1", "keyword2": "2026-01-02 15:04"}, "keyword1", "40004/USER_NOT_SUBSCRIBED"},
		{direct.Douyin, "ttdirect000000001", "_000direct_user", []string{"thing1", "thing2"},
			map[string]string{"thing1": "物品名称", "thing2": "快递单号"},
			map[string]string{"物品名称": "order A1", "快递单号": "SF1"}, "物品名称", "28014043"},
		{direct.Kuaishou, "ks700000000000000042", "ks_direct_user", []string{"thing01", "thing02"}, nil,
			map[string]string{"thing01": "order A1", "thing02": "顺丰"}, "thing01", "100200110"},
		{direct.Baidu, "bdDirectAppKey000000000000000001", "bd_direct_user", []string{"thing1", "time2"}, nil,
			map[string]string{"thing1": "order A1", "time2": "2026-01-02 15:04"}, "thing1", "4007"},
	}
	for _, tc := range cases {
		t.Run(tc.platform, func(t *testing.T) {
			t.Parallel()
			app := direct.App{Platform: tc.platform, AppID: tc.appID, Secret: "direct-secret"}
			reg := mockapi.App{Platform: tc.platform, AppID: tc.appID, Secret: app.Secret,
				Templates: []mockapi.Template{{TemplateID: "tmpl-1", Title: "发货通知", Keywords: tc.keywords, KeywordNames: tc.names}},
				Grants:    []mockapi.Grant{{OpenID: tc.user, TemplateID: "tmpl-1", Count: 1}}}
			if tc.platform == direct.Alipay {
				reg.Secret = ""
				reg.AppPublicKey = publicPEM(t, &appKey.PublicKey)
				reg.AlipayPrivateKey = privatePEM(t, platformKey)
				app.AlipayAppKey, app.AlipayPublicKey = appKey, &platformKey.PublicKey
			}
			if _, err := mock.Control.AddApp(ctx, reg); err != nil {
				t.Fatal(err)
			}
			c := direct.New(mock.URL)
			token, ans, err := c.Token(ctx, app)
			if err != nil || !ans.OK {
				t.Fatalf("token: %v %v", ans, err)
			}
			m := direct.Message{To: tc.user, TemplateID: "tmpl-1", Data: tc.data, Page: "pages/index/index"}
			if ans, err = c.Send(ctx, app, token, m); err != nil || !ans.OK {
				t.Fatalf("send: %v %v: %s", ans, err, ans.Body)
			}
			in, err := mock.Control.Messages(ctx, mockclient.MessageFilter{Platform: tc.platform, AppID: tc.appID, Wait: time.Second})
			if err != nil || len(in.Messages) != 1 || in.Messages[0].Data[tc.inboxKey] != "order A1" {
				t.Fatalf("inbox %+v %v", in, err)
			}
			if tc.platform == direct.Douyin {
				time.Sleep(1100 * time.Millisecond) // one message per user per second
			}
			if ans, err = c.Send(ctx, app, token, m); err != nil || ans.OK || ans.Code != tc.notSubscribed {
				t.Fatalf("second send: %v %v, want %s", ans, err, tc.notSubscribed)
			}
		})
	}
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicPEM(t *testing.T, k *rsa.PublicKey) string {
	b, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: b}))
}

func privatePEM(t *testing.T, k *rsa.PrivateKey) string {
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}))
}
