package direct_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"testing"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/scenarios/internal/direct"
)

func TestWeChatCustomerService(t *testing.T) {
	t.Parallel()
	mock := mocktest.Start(t)
	ctx := context.Background()
	app := direct.App{Platform: direct.WeChat, AppID: "wxdirect000000009", Secret: "direct-secret"}
	if _, err := mock.Control.AddApp(ctx, mockapi.App{Platform: app.Platform, AppID: app.AppID, Secret: app.Secret}); err != nil {
		t.Fatal(err)
	}
	c := direct.New(mock.URL)
	tok, ans, err := c.Token(ctx, app)
	if err != nil || !ans.OK {
		t.Fatalf("token: %v %v", ans, err)
	}
	if _, err := mock.Control.OpenKefuSession(ctx, mockapi.KefuSession{Platform: app.Platform, AppID: app.AppID,
		OpenID: "o_direct_user", Trigger: mockapi.KefuTriggerEnter}); err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	id, ans, err := c.UploadImage(ctx, tok, "a.png", img.Bytes())
	if err != nil || !ans.OK || len(id) != 64 {
		t.Fatalf("upload: %q %v %v", id, ans, err)
	}
	if ans, err := c.KefuImage(ctx, tok, "o_direct_user", id); err != nil || !ans.OK {
		t.Fatalf("image reply: %v %v", ans, err)
	}
	if ans, err := c.KefuText(ctx, tok, "o_direct_user", "您好"); err != nil || !ans.OK {
		t.Fatalf("text reply: %v %v", ans, err)
	}
	if ans, _ := c.KefuText(ctx, tok, "o_direct_user", "还在吗"); ans.OK || ans.Code != "45047" {
		t.Fatalf("third reply after entering the session: %v", ans)
	}
	got, err := mock.Control.Messages(ctx, mockclient.MessageFilter{Kind: mockapi.KindCustomerService})
	if err != nil || got.Total != 2 || got.Messages[0].Data["media_id"] != id || got.Messages[1].Data["content"] != "您好" {
		t.Fatalf("inbox = %+v, %v", got, err)
	}
}
