package direct_test

import (
	"context"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/scenarios/internal/direct"
)

func TestDouyinTemplateAndSubscription(t *testing.T) {
	t.Parallel()
	mock := mocktest.Start(t)
	ctx := context.Background()
	app := direct.App{Platform: direct.Douyin, AppID: "ttdirect000000002", Secret: "direct-secret"}
	if _, err := mock.Control.AddApp(ctx, mockapi.App{Platform: app.Platform, AppID: app.AppID, Secret: app.Secret,
		Users: []string{"_000direct_user"}}); err != nil {
		t.Fatal(err)
	}
	c := direct.New(mock.URL)
	tok, ans, err := c.Token(ctx, app)
	if err != nil || !ans.OK {
		t.Fatalf("token: %v %v", ans, err)
	}
	msgID, ans, err := c.DouyinAddAppTemplate(ctx, tok, 12259, []string{"物品名称", "快递单号"})
	if err != nil || !ans.OK || msgID == "" {
		t.Fatalf("add_app_tpl: %v %v", ans, err)
	}
	if _, ans, _ := c.DouyinAddAppTemplate(ctx, tok, 1, []string{"x"}); ans.OK || ans.Code != "28001038" {
		t.Fatalf("add_app_tpl of an unknown template: %v", ans)
	}
	status, ans, err := c.DouyinSubscription(ctx, tok, msgID, "_000direct_user")
	if err != nil || !ans.OK || status != 0 {
		t.Fatalf("query_user_subscribe before a grant: %d %v %v", status, ans, err)
	}
	if _, err := mock.Control.Grant(ctx, mockapi.Grant{Platform: app.Platform, AppID: app.AppID, OpenID: "_000direct_user", TemplateID: msgID, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if status, ans, _ = c.DouyinSubscription(ctx, tok, msgID, "_000direct_user"); !ans.OK || status != 1 {
		t.Fatalf("query_user_subscribe after a grant: %d %v", status, ans)
	}
	m := direct.Message{To: "_000direct_user", TemplateID: msgID, Data: map[string]string{"物品名称": "键盘", "快递单号": "SF1"}}
	if ans, err := c.Send(ctx, app, tok, m); err != nil || !ans.OK {
		t.Fatalf("send: %v %v", ans, err)
	}
	if err := mock.Control.SetContentRules(ctx, mockapi.ContentRules{RiskyImages: []string{"https://img.example/bad.png"}}); err != nil {
		t.Fatal(err)
	}
	for link, want := range map[string]bool{"https://img.example/bad.png": true, "https://img.example/ok.png": false} {
		if risky, ans, err := c.DouyinImageRisky(ctx, app, tok, link); err != nil || !ans.OK || risky != want {
			t.Fatalf("image %s: risky %v, %v %v; want %v", link, risky, ans, err, want)
		}
	}
}

func TestBaiduTemplateAddAndKuaishouJSON(t *testing.T) {
	t.Parallel()
	mock := mocktest.Start(t)
	ctx := context.Background()
	c := direct.New(mock.URL)

	bd := direct.App{Platform: direct.Baidu, AppID: "bdDirectAppKey000000000000000002", Secret: "direct-secret"}
	ks := direct.App{Platform: direct.Kuaishou, AppID: "ks700000000000000043", Secret: "direct-secret"}
	for _, a := range []mockapi.App{
		{Platform: bd.Platform, AppID: bd.AppID, Secret: bd.Secret},
		{Platform: ks.Platform, AppID: ks.AppID, Secret: ks.Secret,
			Templates: []mockapi.Template{{TemplateID: "tmpl-1", Title: "发货通知", Keywords: []string{"thing01"}}},
			Grants:    []mockapi.Grant{{OpenID: "ks_direct_user", TemplateID: "tmpl-1", Count: 1}}},
	} {
		if _, err := mock.Control.AddApp(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	tok, _, err := c.Token(ctx, bd)
	if err != nil {
		t.Fatal(err)
	}
	id, ans, err := c.BaiduAddTemplate(ctx, tok, "BD0003", []int{1, 2})
	if err != nil || !ans.OK || id == "" {
		t.Fatalf("templateadd: %v %v", ans, err)
	}
	if _, ans, _ := c.BaiduAddTemplate(ctx, tok, "BD0003", []int{99}); ans.OK || ans.Code != "30001" {
		t.Fatalf("templateadd with an unknown keyword: %v", ans)
	}
	if _, err := mock.Control.Grant(ctx, mockapi.Grant{Platform: bd.Platform, AppID: bd.AppID, OpenID: "bd_direct_user", TemplateID: id, Count: 1}); err != nil {
		t.Fatal(err)
	}
	m := direct.Message{To: "bd_direct_user", TemplateID: id, Data: map[string]string{"keyword1": "体检", "keyword2": "明天 9:00"}}
	if ans, err := c.Send(ctx, bd, tok, m); err != nil || !ans.OK {
		t.Fatalf("baidu send: %v %v", ans, err)
	}

	ktok, _, err := c.Token(ctx, ks)
	if err != nil {
		t.Fatal(err)
	}
	km := direct.Message{To: "ks_direct_user", TemplateID: "tmpl-1", Data: map[string]string{"thing01": "耳机"}, Page: "pages/index/index"}
	if ans, err := c.KuaishouSendJSON(ctx, ks, ktok, km); err != nil || !ans.OK {
		t.Fatalf("kuaishou JSON send: %v %v", ans, err)
	}
	if ans, _ := c.KuaishouSendJSON(ctx, ks, ktok, km); ans.OK || ans.Code != "100200110" {
		t.Fatalf("second JSON send: %v, want 100200110", ans)
	}
	in, err := mock.Control.Messages(ctx, mockclient.MessageFilter{Wait: time.Second, Min: 2})
	if err != nil || in.Total != 2 {
		t.Fatalf("inbox %+v %v", in, err)
	}
}
