// Package seed loads the mock's initial state from YAML or JSON files and
// provides the built-in demo seed (mockserver -demo, make run).
package seed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// Load reads a seed file: JSON when it ends in .json, YAML otherwise. Unknown
// fields are errors, so a typo does not silently seed nothing.
func Load(path string) (mockapi.Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return mockapi.Seed{}, fmt.Errorf("read seed: %w", err)
	}
	s, err := Parse(b, strings.EqualFold(filepath.Ext(path), ".json"))
	if err != nil {
		return mockapi.Seed{}, fmt.Errorf("seed %s: %w", path, err)
	}
	return s, nil
}

// Parse decodes a seed document.
func Parse(b []byte, isJSON bool) (mockapi.Seed, error) {
	var s mockapi.Seed
	if isJSON {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return s, err
		}
		return s, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && err.Error() != "EOF" {
		return s, err
	}
	return s, nil
}

// Demo app ids, users and templates (documented in the README).
const (
	DemoWeChatAppID    = "wxdemo0000000001"
	DemoWeChatSecret   = "demo-secret"
	DemoUserAlice      = "o_demo_alice_000000000000000"
	DemoUserBob        = "o_demo_bob_00000000000000000"
	DemoUserCarol      = "o_demo_carol_000000000000000"
	DemoTemplateOrder  = "demo-order-shipped"
	DemoTemplateRemind = "demo-appointment-reminder"
)

// Demo is a ready-to-use world: a WeChat app with three users, two
// templates and grants (Alice: 100 one-time order notices, Bob: 1,
// Carol: a long-term reminder grant).
func Demo() mockapi.Seed {
	return mockapi.Seed{
		Apps: []mockapi.App{{
			Platform: mockapi.PlatformWeChat, AppID: DemoWeChatAppID, Secret: DemoWeChatSecret,
			Users: []string{DemoUserAlice, DemoUserBob, DemoUserCarol},
			Templates: []mockapi.Template{
				{TemplateID: DemoTemplateOrder, Title: "订单发货通知",
					Keywords:     []string{"thing1", "character_string2", "date3", "phrase4"},
					KeywordNames: map[string]string{"thing1": "商品名称", "character_string2": "快递单号", "date3": "发货时间", "phrase4": "订单状态"}},
				{TemplateID: DemoTemplateRemind, Title: "预约提醒", Type: mockapi.TemplateLongTerm,
					Keywords:     []string{"name1", "time2", "thing3"},
					KeywordNames: map[string]string{"name1": "预约人", "time2": "预约时间", "thing3": "备注"}},
			},
			Grants: []mockapi.Grant{
				{OpenID: DemoUserAlice, TemplateID: DemoTemplateOrder, Count: 100},
				{OpenID: DemoUserBob, TemplateID: DemoTemplateOrder, Count: 1},
				{OpenID: DemoUserCarol, TemplateID: DemoTemplateRemind, LongTerm: true},
			},
		}},
		ContentRules: &mockapi.ContentRules{
			Risky: []mockapi.ContentWord{
				{Word: "特3456书yuuo莞6543李zxcz蒜7782法fgnv级", Label: 20006},
				{Word: "完2347全dfji试3726测asad感3847知qwez到", Label: 20006},
				{Word: "fake-invoice", Label: 20008},
			},
			Review: []mockapi.ContentWord{{Word: "limited-offer", Label: 10001}},
		},
	}
}
