package baidu

import (
	"errors"

	"github.com/minipush/minipush/mockserver/internal/keyword"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Endpoints lists the endpoint names faults and quotas can target.
func (e *Emulator) Endpoints() []string { return Endpoints() }

// DefaultLimits are the call limits of a new app.
func (e *Emulator) DefaultLimits() []quota.Limit { return DefaultLimits() }

// PrepareApp checks a Baidu app. Its app_id is the AppKey (the token's
// client_id), not the numeric AppID, and it needs its AppSecret.
func (e *Emulator) PrepareApp(req mockapi.App, _ *store.App) (map[string]any, string, error) {
	if req.Secret == "" {
		return nil, "secret", errors.New("secret (the app's AppSecret) is required for a baidu app; app_id is its AppKey")
	}
	return nil, "", nil
}

// The demo app. Baidu apps are addressed by their AppKey, a 32-character
// alphanumeric string; template ids are 32 hex characters (the doc's example
// is 83213b378e0647a3b5df04db353a1fb7); open ids are opaque strings.
const (
	DemoAppKey     = "bdDemoAppKey00000000000000000001"
	DemoSecret     = "demo-secret"
	DemoUserAlice  = "bd_demo_alice_000000000000000"
	DemoUserBob    = "bd_demo_bob_0000000000000000"
	DemoTemplateID = "de300000000000000000000000000001"
)

// DemoApp is a ready-to-use Baidu app for the demo seed: a template keyed
// as Baidu keys its templates (keyword1, keyword2: the title 预约成功通知,
// BD0003 of the mock's library, with its first two keywords), two users
// and five one-time authorizations each (each spent with its own
// subscribe_id).
func DemoApp() mockapi.App {
	return mockapi.App{
		Platform: Name, AppID: DemoAppKey, Secret: DemoSecret,
		Users: []string{DemoUserAlice, DemoUserBob},
		Templates: []mockapi.Template{{
			TemplateID: DemoTemplateID, Title: "预约成功通知",
			Keywords:     []string{"keyword1", "keyword2"},
			KeywordNames: map[string]string{"keyword1": "预约项目", "keyword2": "预约时间"},
		}},
		Grants: []mockapi.Grant{
			{OpenID: DemoUserAlice, TemplateID: DemoTemplateID, Count: 5},
			{OpenID: DemoUserBob, TemplateID: DemoTemplateID, Count: 5},
		},
	}
}

// CheckKeywordKey: templates number their keywords ("keyword1"); typed
// WeChat-style keys ("thing1") are accepted too and get their type's rule.
func (e *Emulator) CheckKeywordKey(key string) error { return keyword.CheckNumberedKey(key) }
