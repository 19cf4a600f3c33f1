package kuaishou

import (
	"errors"
	"fmt"

	"github.com/minipush/minipush/mockserver/internal/keyword"
	"github.com/minipush/minipush/mockserver/internal/quota"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Endpoints lists the endpoint names faults and quotas can target.
func (e *Emulator) Endpoints() []string { return Endpoints() }

// DefaultLimits are the call limits of a new app.
func (e *Emulator) DefaultLimits() []quota.Limit { return DefaultLimits() }

// PrepareApp checks a Kuaishou app: it needs its app_secret.
func (e *Emulator) PrepareApp(req mockapi.App, _ *store.App) (map[string]any, string, error) {
	if req.Secret == "" {
		return nil, "secret", errors.New("secret (the app's app_secret) is required for a kuaishou app")
	}
	return nil, "", nil
}

// The demo app. Kuaishou app ids are "ks" and 18 digits (the doc's example
// is ks707065143182458884); the shapes of open ids and template ids are not
// documented, so readable ones are used.
const (
	DemoAppID      = "ks700000000000000001"
	DemoSecret     = "demo-secret"
	DemoUserAlice  = "ks_demo_alice_0000000000000000"
	DemoUserBob    = "ks_demo_bob_00000000000000000"
	DemoTemplateID = "ks-demo-order-shipped"
)

// DemoApp is a ready-to-use Kuaishou app for the demo seed: a template with
// the doc's example keys (thing01, thing02, date01) plus an amount, and two
// users holding five one-time subscriptions each.
func DemoApp() mockapi.App {
	return mockapi.App{
		Platform: Name, AppID: DemoAppID, Secret: DemoSecret,
		Users: []string{DemoUserAlice, DemoUserBob},
		Templates: []mockapi.Template{{
			TemplateID: DemoTemplateID, Title: "订单发货通知",
			Keywords: []string{"thing01", "thing02", "date01", "amount01"},
			KeywordNames: map[string]string{"thing01": "商品名称", "thing02": "物流公司",
				"date01": "发货日期", "amount01": "订单金额"},
		}},
		Grants: []mockapi.Grant{
			{OpenID: DemoUserAlice, TemplateID: DemoTemplateID, Count: 5},
			{OpenID: DemoUserBob, TemplateID: DemoTemplateID, Count: 5},
		},
	}
}

// CheckKeywordKey: a Kuaishou type followed by digits ("thing01",
// "licensePlate02").
func (e *Emulator) CheckKeywordKey(key string) error {
	t := keyword.Type(key)
	if t == key || t == "" || !KnownType(t) {
		return fmt.Errorf("keyword %q must be a Kuaishou keyword type followed by digits, e.g. thing01", key)
	}
	return nil
}
