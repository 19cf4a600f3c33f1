package kuaishou_test

import (
	"net/url"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/kuaishou"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// The control API takes Kuaishou's own keyword types (string01, phone01,
// licensePlate01, status01), and a send is checked by their rules.
func TestKuaishouTypedKeysEndToEnd(t *testing.T) {
	t.Parallel()
	m := start(t)
	keys := []string{"string01", "phone01", "licensePlate01", "status01"}
	if err := m.Control.AddTemplate(m.ctx, mockapi.Template{Platform: mockapi.PlatformKuaishou, AppID: appA,
		TemplateID: "tmpl-typed", Title: "车辆通知", Keywords: keys}); err != nil {
		t.Fatalf("register a template with Kuaishou's types: %v", err)
	}
	if err := m.Control.AddTemplate(m.ctx, mockapi.Template{Platform: mockapi.PlatformKuaishou, AppID: appA,
		TemplateID: "tmpl-wechat", Title: "x", Keywords: []string{"character_string1"}}); err == nil {
		t.Fatal("a WeChat-only type was accepted for Kuaishou")
	}
	if _, err := m.Control.Grant(m.ctx, mockapi.Grant{Platform: mockapi.PlatformKuaishou, AppID: appA, OpenID: userA2,
		TemplateID: "tmpl-typed", LongTerm: true}); err != nil {
		t.Fatal(err)
	}
	tok := m.token(appA, secretA)
	send := func(values map[string]string) reply {
		d := map[string]any{}
		for k, v := range values {
			d[k] = map[string]any{"value": v}
		}
		return m.send(url.Values{"app_id": {appA}, "access_token": {tok}, "template_id": {"tmpl-typed"}, "to_user": {userA2},
			"page": {"pages/index"}, "data": {dataString(t, d)}})
	}
	good := map[string]string{"string01": "AB12", "phone01": "13800138000", "licensePlate01": "粤A12345", "status01": "已完成"}
	wantResult(t, send(good), kuaishou.ResultOK)
	for key, bad := range map[string]string{"string01": "AB-12", "phone01": "1380013800", "licensePlate01": "A12345", "status01": "done"} {
		v := map[string]string{}
		for k, x := range good {
			v[k] = x
		}
		v[key] = bad
		wantDetail(t, send(v), kuaishou.ResultBadParam, "data."+key)
	}
}
