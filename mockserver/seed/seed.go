// Package seed loads the mock's initial state from YAML or JSON files and
// provides the built-in demo seed (mockserver -demo, make run).
package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/internal/baidu"
	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/internal/douyin"
	"github.com/minipush/minipush/mockserver/internal/kuaishou"
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

// maxStartOffset bounds how far a seed's start may be from the real time:
// the mock clock is real time plus a time.Duration, which spans ±292 years,
// and the control API allows it to run at most 100 years off.
const maxStartOffset = 100 * 365 * 24 * time.Hour

// Parse decodes a seed document. It holds exactly one JSON object or one
// YAML document (an empty YAML document is an empty seed).
func Parse(b []byte, isJSON bool) (mockapi.Seed, error) {
	s, err := parse(b, isJSON)
	if err != nil {
		return s, err
	}
	if s.ContentRules != nil {
		for i, img := range s.ContentRules.RiskyImages {
			n, err := content.NormalizeImage(img)
			if err != nil {
				return s, fmt.Errorf("content_rules.risky_images[%d]: %w", i, err)
			}
			s.ContentRules.RiskyImages[i] = n
		}
	}
	if s.Start != nil {
		if d := time.Until(*s.Start); d > maxStartOffset || d < -maxStartOffset {
			return s, fmt.Errorf("start %s is more than 100 years from now", s.Start.Format(time.RFC3339))
		}
	}
	return s, nil
}

func parse(b []byte, isJSON bool) (mockapi.Seed, error) {
	var s mockapi.Seed
	if isJSON {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			if errors.Is(err, io.EOF) {
				return s, errors.New("empty JSON seed: want an object such as {\"apps\":[]}")
			}
			return s, err
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return s, errors.New("unexpected data after the seed's JSON object")
		}
		return s, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		return s, err
	}
	// A second document would be ignored silently: most likely two seeds
	// pasted together.
	for {
		var more yaml.Node
		err := dec.Decode(&more)
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil || !emptyDocument(&more) {
			return s, errors.New("the seed holds more than one YAML document")
		}
	}
}

// emptyDocument reports whether n holds nothing, as a trailing "---" does.
func emptyDocument(n *yaml.Node) bool {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
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

// The other platforms' demo apps (documented in the README and in
// docs/mock-<platform>.md), re-exported so code outside the mock can use
// them: the platform packages are internal.
const (
	DemoAlipayAppID         = alipay.DemoAppID
	DemoAlipayUser          = alipay.DemoUserID
	DemoAlipayTemplate      = alipay.DemoTemplateID
	DemoAlipayAppPrivateKey = alipay.DemoAppPrivateKeyPEM
	DemoAlipayPublicKey     = alipay.DemoAlipayPublicKeyPEM
	DemoDouyinAppID         = douyin.DemoAppID
	DemoDouyinSecret        = douyin.DemoSecret
	DemoDouyinUser          = douyin.DemoUserAlice
	DemoDouyinTemplate      = douyin.DemoTemplateOrder
	DemoKuaishouAppID       = kuaishou.DemoAppID
	DemoKuaishouSecret      = kuaishou.DemoSecret
	DemoKuaishouUser        = kuaishou.DemoUserAlice
	DemoKuaishouTemplate    = kuaishou.DemoTemplateID
	DemoBaiduAppKey         = baidu.DemoAppKey
	DemoBaiduSecret         = baidu.DemoSecret
	DemoBaiduUser           = baidu.DemoUserAlice
	DemoBaiduTemplate       = baidu.DemoTemplateID
)

// DemoApp returns the demo seed's app on one platform.
func DemoApp(platform string) (mockapi.App, bool) {
	for _, a := range Demo().Apps {
		if a.Platform == platform {
			return a, true
		}
	}
	return mockapi.App{}, false
}

// Demo is a ready-to-use world: a WeChat app with three users, two
// templates and grants (Alice: 100 one-time order notices, Bob: 1,
// Carol: a long-term reminder grant), and one demo app on each other
// platform (see each platform's DemoApp and docs/mock-<platform>.md).
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
		}, alipay.DemoApp(), douyin.DemoApp(), kuaishou.DemoApp(), baidu.DemoApp()},
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
