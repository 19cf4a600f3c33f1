package alipay

import "github.com/minipush/minipush/mockserver/mockapi"

// Demo app, user and template (the demo seed uses DemoApp).
const (
	DemoAppID      = "2021000000000001"
	DemoUserID     = "2088000000000001"
	DemoTemplateID = "demo-alipay-order-status"
)

// DemoApp is a ready-to-use Alipay app: fixed demo keys (demokeys.go — for
// local development only), one user with 100 one-time grants for a
// template with three keywords, sent as keyword1..keyword3 (an order
// number, a status of up to 20 characters, a time).
func DemoApp() mockapi.App {
	return mockapi.App{
		Platform: Name, AppID: DemoAppID,
		AppPublicKey: DemoAppPublicKeyPEM, AlipayPrivateKey: DemoAlipayPrivateKeyPEM,
		Users: []string{DemoUserID},
		Templates: []mockapi.Template{{
			TemplateID: DemoTemplateID, Title: "订单状态通知",
			Keywords:     []string{"character_string1", "thing2", "time3"},
			KeywordNames: map[string]string{"character_string1": "订单编号", "thing2": "订单状态", "time3": "更新时间"},
		}},
		Grants: []mockapi.Grant{{OpenID: DemoUserID, TemplateID: DemoTemplateID, Count: 100}},
	}
}
