package alipay_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/alipay"
)

func ExampleClient_Send() {
	// A mock Alipay gateway. Registering an app without keys makes the mock
	// generate them and answer, once, the app private key and the Alipay
	// public key — what the console shows for a real app.
	mock, err := mocktest.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer mock.Close()
	ctx := context.Background()
	const appID, user, tmpl = "2021000000000001", "2088000000000001", "tmpl-order"
	keys, err := mock.Control.AddApp(ctx, mockapi.App{Platform: "alipay", AppID: appID,
		Templates: []mockapi.Template{{TemplateID: tmpl, Title: "发货通知", Keywords: []string{"thing1"}}},
		Grants:    []mockapi.Grant{{OpenID: user, TemplateID: tmpl, Count: 1}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	privateKey, _ := keys["app_private_key"].(string)
	alipayPublicKey, _ := keys["alipay_public_key"].(string)

	c, err := alipay.New(alipay.Config{AppID: appID, PrivateKey: privateKey, AlipayPublicKey: alipayPublicKey,
		BaseURL: mock.URL, DefaultPage: "pages/index/index"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Alipay addresses a template's placeholders as keyword1…keywordN.
	send := platform.Send{To: user, TemplateID: tmpl, Data: map[string]string{"keyword1": "已发货"}}
	_, err = c.Send(ctx, send)
	fmt.Println(err)

	// The one-time subscription is used up.
	_, err = c.Send(ctx, send)
	var pe *platform.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.Code, pe.Class)
	}
	// Output:
	// <nil>
	// 40004/USER_NOT_SUBSCRIBED permanent
}
