package douyin

import "github.com/minipush/minipush/mockserver/mockapi"

// Demo app: ids, users and templates of DemoApp.
const (
	DemoAppID          = "tt0000000000000001"
	DemoSecret         = "demo-secret"
	DemoUserAlice      = "_000demo_alice_0000000000000000"
	DemoUserBob        = "_000demo_bob_000000000000000000"
	DemoTemplateOrder  = "MSG0000000000000000000000000000000000000001"
	DemoTemplateRemind = "MSG0000000000000000000000000000000000000002"
)

// DemoApp is a ready-to-use Douyin app for the demo seed: two users, a
// one-time order notice whose data keys are its Chinese keyword names, a
// long-term reminder, and grants (Alice: 100 order notices, Bob: 1, and a
// long-term reminder grant for Alice).
//
// A v1 send of the order notice carries data like
// {"物品名称":"机械键盘","快递单号":"SF1234567890","发货时间":"2025年3月14日"}.
func DemoApp() mockapi.App {
	return mockapi.App{
		Platform: mockapi.PlatformDouyin, AppID: DemoAppID, Secret: DemoSecret,
		Users: []string{DemoUserAlice, DemoUserBob},
		Templates: []mockapi.Template{
			{TemplateID: DemoTemplateOrder, Title: "订单发货通知",
				Keywords:     []string{"thing1", "character_string2", "date3"},
				KeywordNames: map[string]string{"thing1": "物品名称", "character_string2": "快递单号", "date3": "发货时间"}},
			{TemplateID: DemoTemplateRemind, Title: "预约提醒", Type: mockapi.TemplateLongTerm,
				Keywords:     []string{"thing1", "time2"},
				KeywordNames: map[string]string{"thing1": "预约项目", "time2": "预约时间"}},
		},
		Grants: []mockapi.Grant{
			{OpenID: DemoUserAlice, TemplateID: DemoTemplateOrder, Count: 100},
			{OpenID: DemoUserBob, TemplateID: DemoTemplateOrder, Count: 1},
			{OpenID: DemoUserAlice, TemplateID: DemoTemplateRemind, LongTerm: true},
		},
	}
}
