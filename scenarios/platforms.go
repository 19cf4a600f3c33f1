package scenarios

import (
	"fmt"
	"strings"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockkeyword"
)

// platformSpec is what the scenarios need to know about one platform: the
// template they register, how a message's data is keyed on the wire and in
// the mock's inbox, how users look, and the mock's endpoint names for the
// calls the sender makes (faults, quotas and the journal use them).
type platformSpec struct {
	name string
	// The mock's endpoint names of the calls the sender makes.
	tokenEndpoint, sendEndpoint, checkEndpoint string
	// keywords of the standard template (typed keys, as the control API
	// takes them) and, for Douyin, their display names.
	keywords []string
	names    map[string]string
	// positional: the platform addresses keywords as keyword1…N (Alipay).
	positional bool
	// userID turns a scenario's user name into an id of the platform.
	userID func(name string, n int) string
	// appID makes the n-th app id of a world.
	appID func(world, n int) string
}

var platforms = map[string]*platformSpec{
	"wechat": {name: "wechat", tokenEndpoint: "stable_token", sendEndpoint: "subscribe_send", checkEndpoint: "msg_sec_check",
		keywords: []string{"thing1", "character_string2", "time3"},
		userID:   func(name string, _ int) string { return pad("o_"+name+"_", 28) },
		appID:    func(w, n int) string { return fmt.Sprintf("wx%04x%012x", w, n) }},
	"alipay": {name: "alipay", sendEndpoint: "templatemessage_send", checkEndpoint: "content_detect",
		keywords: []string{"thing1", "character_string2", "time3"}, positional: true,
		// User ids are 2088 and 12 digits.
		userID: func(_ string, n int) string { return fmt.Sprintf("2088%012d", n) },
		appID:  func(w, n int) string { return fmt.Sprintf("2021%04d%08d", w%10000, n) }},
	"douyin": {name: "douyin", tokenEndpoint: "client_token", sendEndpoint: "notify_v2", checkEndpoint: "censor",
		keywords: []string{"thing1", "thing2"}, names: map[string]string{"thing1": "物品名称", "thing2": "快递公司"},
		userID: func(name string, _ int) string { return pad("_000"+name+"_", 32) },
		appID:  func(w, n int) string { return fmt.Sprintf("tt%04x%012x", w, n) }},
	"kuaishou": {name: "kuaishou", tokenEndpoint: "token", sendEndpoint: "template_send",
		keywords: []string{"thing01", "thing02"},
		userID:   func(name string, _ int) string { return "ks_" + name },
		appID:    func(w, n int) string { return fmt.Sprintf("ks7%05d%012d", w%100000, n) }},
	"baidu": {name: "baidu", tokenEndpoint: "token", sendEndpoint: "subscribe_send", checkEndpoint: "check_text",
		// Baidu numbers its keywords by position (keyword1, keyword2).
		keywords: []string{"keyword1", "keyword2"},
		userID:   func(name string, _ int) string { return "bd_" + name },
		appID:    func(w, n int) string { return fmt.Sprintf("bd%06dAppKey%018d", w, n) }},
}

// platformNames in a stable order.
var platformNames = []string{"wechat", "alipay", "douyin", "kuaishou", "baidu"}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat("0", n-len(s))
}

// template is the app's template: the standard one, or one with the given
// typed keys.
func (p *platformSpec) template(id string, keys []string) mockapi.Template {
	t := mockapi.Template{TemplateID: id, Title: "订单发货通知", Keywords: p.keywords, KeywordNames: p.names,
		Type: mockapi.TemplateOneTime}
	if keys != nil {
		t.Keywords, t.KeywordNames = keys, nil
	}
	return t
}

// sampleValue is a valid value for a keyword of type t.
func sampleValue(t string) string {
	switch t {
	case "number":
		return "42"
	case "letter":
		return "abc"
	case "symbol":
		return "+"
	case "character_string", "string":
		return "SF1234567890"
	case "time":
		return "2026-01-02 15:04"
	case "date":
		return "2026-01-02"
	case "amount":
		return "12.50"
	case "phone_number":
		return "13800138000"
	case "car_number":
		return "粤A12345"
	case "name":
		return "张三"
	case "phrase":
		return "已发货"
	}
	return "顺丰速运"
}

// kuaishouDate is Kuaishou's date format (2020年02月25号).
const kuaishouDate = "2026年01月02号"

// data builds a message's data for template keys: the marker (with an
// optional text before it) in the first text keyword (WeChat-typed
// "thing", or Baidu's untyped "keyword"), valid values
// elsewhere; keyed the way the platform's send API takes them. It also
// returns the key under which the marker shows in the mock's inbox.
func (p *platformSpec) data(keys []string, names map[string]string, text, marker string) (map[string]string, string) {
	out := map[string]string{}
	markerKey := ""
	for i, k := range keys {
		t := mockkeyword.Type(k)
		v := sampleValue(t)
		if p.name == "kuaishou" && t == "date" {
			v = kuaishouDate
		}
		textual := t == "thing" || t == "keyword"
		if markerKey == "" && textual {
			v = "order " + marker
			if text != "" {
				v = text + " " + marker
			}
		}
		wire := k
		if p.positional {
			wire = fmt.Sprintf("keyword%d", i+1)
		} else if n := names[k]; n != "" {
			wire = n
		}
		if markerKey == "" && textual {
			markerKey = wire
		}
		out[wire] = v
	}
	return out, markerKey
}
