package alipay_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

func remaining(t *testing.T, m *mocktest.Mock, openID string) int {
	t.Helper()
	gs, err := m.Control.Grants(context.Background(), mockapi.PlatformAlipay, appID, openID)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.TemplateID == templateID {
			return g.Remaining
		}
	}
	return 0
}

func TestSendDeliversAndConsumesGrant(t *testing.T) {
	t.Parallel()
	m, c := start(t)
	grant(t, m, userID, 1)

	wantCode(t, c.node(c.exec(alipay.MethodTemplateSend, sendBiz(userID), nil), nodeSend, true), "10000", "")
	msgs := messages(t, m)
	if len(msgs) != 1 {
		t.Fatalf("inbox holds %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	want := map[string]string{"keyword1": "SO20240601001", "keyword2": "已发货", "keyword3": "2024-06-01 12:00"}
	if got.Platform != mockapi.PlatformAlipay || got.AppID != appID || got.OpenID != userID ||
		got.TemplateID != templateID || got.Page != "pages/order/detail?id=1" || len(got.Data) != 3 {
		t.Fatalf("inbox message %+v", got)
	}
	for k, v := range want {
		if got.Data[k] != v {
			t.Errorf("data[%s] = %q, want %q", k, got.Data[k], v)
		}
	}
	if n := remaining(t, m, userID); n != 0 {
		t.Fatalf("grant remaining %d after the send, want 0", n)
	}

	// The grant is spent: the next send is refused and delivers nothing.
	wantCode(t, c.node(c.exec(alipay.MethodTemplateSend, sendBiz(userID), nil), nodeSend, true), "40004", "USER_NOT_SUBSCRIBED")
	if n := len(messages(t, m)); n != 1 {
		t.Fatalf("inbox holds %d messages after the refused send, want 1", n)
	}
	j := journal(t, m)
	if len(j) != 2 {
		t.Fatalf("journal holds %d entries, want 2", len(j))
	}
	for i, wantErr := range []int{0, 40004} {
		if j[i].Endpoint != alipay.EndpointTemplateSend || j[i].AppID != appID || j[i].OpenID != userID ||
			j[i].ErrCode != wantErr || j[i].Path != "/gateway.do" {
			t.Errorf("journal[%d] = %+v, want templatemessage_send errcode %d", i, j[i], wantErr)
		}
	}
}

func bizWith(mutate func(b map[string]any)) string {
	data := map[string]any{
		"keyword1": map[string]any{"value": "SO20240601001"},
		"keyword2": map[string]any{"value": "已发货"},
		"keyword3": map[string]any{"value": "2024-06-01 12:00"},
	}
	b := map[string]any{"to_user_id": userID, "user_template_id": templateID, "page": "pages/index", "data": data}
	mutate(b)
	if d, ok := b["data"].(map[string]any); ok {
		s, _ := json.Marshal(d)
		b["data"] = string(s)
	}
	s, _ := json.Marshal(b)
	return string(s)
}

func keywords(b map[string]any) map[string]any { return b["data"].(map[string]any) }

func TestSendRejections(t *testing.T) {
	t.Parallel()
	m, c := start(t)
	grant(t, m, userID, 5)
	for _, tc := range []struct {
		name, biz, sub, subMsg string
	}{
		{"unknown user", bizWith(func(b map[string]any) { b["to_user_id"] = "2088999999999999" }), "USER_NOT_EXIST", ""},
		{"unknown template", bizWith(func(b map[string]any) { b["user_template_id"] = "nope" }), "USER_TEMPLATE_ILLEGAL", ""},
		{"no user", bizWith(func(b map[string]any) { delete(b, "to_user_id") }), "INVALID_PARAMETER", ""},
		{"long user id", bizWith(func(b map[string]any) { b["to_user_id"] = strings.Repeat("2", 21) }), "INVALID_PARAMETER", ""},
		{"no template", bizWith(func(b map[string]any) { delete(b, "user_template_id") }), "INVALID_PARAMETER", ""},
		{"no page", bizWith(func(b map[string]any) { delete(b, "page") }), "INVALID_PARAMETER", ""},
		{"long page", bizWith(func(b map[string]any) { b["page"] = strings.Repeat("p", 129) }), "INVALID_PARAMETER", ""},
		{"url page", bizWith(func(b map[string]any) { b["page"] = "https://example.com/x" }), "PAGE_ILLEGAL", ""},
		{"no data", bizWith(func(b map[string]any) { delete(b, "data") }), "INVALID_PARAMETER", ""},
		{"data not JSON", bizWith(func(b map[string]any) { b["data"] = "keyword1=x" }), "INVALID_PARAMETER", ""},
		{"data too long", bizWith(func(b map[string]any) {
			keywords(b)["keyword2"] = map[string]any{"value": strings.Repeat("长", 2100)}
		}), "INVALID_PARAMETER", "data超过最大长度2048"},
		{"missing keyword", bizWith(func(b map[string]any) { delete(keywords(b), "keyword3") }),
			"INVALID_PARAMETER", "data.keyword3.value is empty"},
		{"empty keyword", bizWith(func(b map[string]any) { keywords(b)["keyword1"] = map[string]any{"value": ""} }),
			"INVALID_PARAMETER", "data.keyword1.value is empty"},
		{"extra keyword", bizWith(func(b map[string]any) { keywords(b)["keyword4"] = map[string]any{"value": "x"} }),
			"INVALID_PARAMETER", "data.keyword4 is not a keyword of the template"},
		{"thing over 20", bizWith(func(b map[string]any) {
			keywords(b)["keyword2"] = map[string]any{"value": strings.Repeat("货", 21)}
		}), "INVALID_PARAMETER", "data.keyword2.value exceeds limit"},
		{"bad time", bizWith(func(b map[string]any) { keywords(b)["keyword3"] = map[string]any{"value": "noon"} }),
			"INVALID_PARAMETER", "data.keyword3.value invalid"},
		{"WeChat keys", bizWith(func(b map[string]any) {
			b["data"] = map[string]any{"character_string1": map[string]any{"value": "A1"}}
		}), "INVALID_PARAMETER", "data.keyword1.value is empty"},
		{"biz not JSON", "{to_user_id:1}", "INVALID_PARAMETER", ""},
		{"biz wrong type", `{"to_user_id":2088000000000042}`, "INVALID_PARAMETER", ""},
		{"no biz", "", "INVALID_PARAMETER", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := c.node(c.exec(alipay.MethodTemplateSend, tc.biz, nil), nodeSend, true)
			wantCode(t, n, "40004", tc.sub)
			if tc.subMsg != "" && n["sub_msg"] != tc.subMsg {
				t.Errorf("sub_msg %q, want %q", n["sub_msg"], tc.subMsg)
			}
		})
	}
	if n := remaining(t, m, userID); n != 5 {
		t.Fatalf("refused sends spent grants: %d left, want 5", n)
	}
	if n := len(messages(t, m)); n != 0 {
		t.Fatalf("refused sends delivered %d messages", n)
	}
}

func TestSendToOpenIDAndDataObject(t *testing.T) {
	t.Parallel()
	m, c := start(t)
	const openID = "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"
	grant(t, m, openID, 1)
	biz := bizWith(func(b map[string]any) {
		delete(b, "to_user_id")
		b["to_open_id"] = openID
		b["form_id"] = "ignored-legacy-form-id"
	})
	// data as an object rather than a JSON string is accepted as well.
	var obj map[string]any
	_ = json.Unmarshal([]byte(biz), &obj)
	var data map[string]any
	_ = json.Unmarshal([]byte(obj["data"].(string)), &data)
	obj["data"] = data
	b, _ := json.Marshal(obj)

	wantCode(t, c.node(c.exec(alipay.MethodTemplateSend, string(b), nil), nodeSend, true), "10000", "")
	msgs := messages(t, m)
	if len(msgs) != 1 || msgs[0].OpenID != openID {
		t.Fatalf("inbox %+v, want one message to %s", msgs, openID)
	}
}

func TestSendContentScreening(t *testing.T) {
	t.Parallel()
	m, c := start(t)
	grant(t, m, userID, 1)
	if err := m.Control.SetContentRules(context.Background(), mockapi.ContentRules{
		Risky: []mockapi.ContentWord{{Word: "赌博"}}, Review: []mockapi.ContentWord{{Word: "加微信"}},
	}); err != nil {
		t.Fatal(err)
	}
	risky := bizWith(func(b map[string]any) { keywords(b)["keyword2"] = map[string]any{"value": "线上赌博"} })
	wantCode(t, c.node(c.exec(alipay.MethodTemplateSend, risky, nil), nodeSend, true), "40004", "CONTENT_ILLEGAL")
	if n := remaining(t, m, userID); n != 1 {
		t.Fatalf("a refused send spent the grant (%d left)", n)
	}
	review := bizWith(func(b map[string]any) { keywords(b)["keyword2"] = map[string]any{"value": "加微信咨询"} })
	wantCode(t, c.node(c.exec(alipay.MethodTemplateSend, review, nil), nodeSend, true), "10000", "")
}

func TestSendPublishedPages(t *testing.T) {
	t.Parallel()
	m := mocktest.Start(t)
	if _, err := m.Control.AddApp(context.Background(), mockapi.App{Platform: mockapi.PlatformAlipay, AppID: appID,
		AppPublicKey: alipay.DemoAppPublicKeyPEM, AlipayPrivateKey: alipay.DemoAlipayPrivateKeyPEM,
		Pages:     []string{"pages/index"},
		Templates: []mockapi.Template{{TemplateID: templateID, Keywords: []string{"character_string1", "thing2", "time3"}}},
		Grants:    []mockapi.Grant{{OpenID: userID, TemplateID: templateID, Count: 2}},
	}); err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, url: m.URL, appID: appID, key: pemPrivate(t, alipay.DemoAppPrivateKeyPEM),
		alipayPub: pemPublic(t, alipay.DemoAlipayPublicKeyPEM), hc: m.Control.HTTP}
	other := bizWith(func(b map[string]any) { b["page"] = "pages/other" })
	wantCode(t, c.node(c.exec(alipay.MethodTemplateSend, other, nil), nodeSend, true), "40004", "PAGE_ILLEGAL")
	listed := bizWith(func(b map[string]any) { b["page"] = "/pages/index?from=msg" })
	wantCode(t, c.node(c.exec(alipay.MethodTemplateSend, listed, nil), nodeSend, true), "10000", "")
}

// The demo app loads as a seed and works with the demo keys.
func TestDemoApp(t *testing.T) {
	t.Parallel()
	m := mocktest.Start(t, mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{alipay.DemoApp()}}))
	c := &client{t: t, url: m.URL, appID: alipay.DemoAppID, key: pemPrivate(t, alipay.DemoAppPrivateKeyPEM),
		alipayPub: pemPublic(t, alipay.DemoAlipayPublicKeyPEM), hc: m.Control.HTTP}
	data, _ := json.Marshal(map[string]any{
		"keyword1": map[string]string{"value": "SO1"},
		"keyword2": map[string]string{"value": "已发货"},
		"keyword3": map[string]string{"value": "2024-06-01 12:00"},
	})
	biz, _ := json.Marshal(map[string]string{"to_user_id": alipay.DemoUserID, "user_template_id": alipay.DemoTemplateID,
		"page": "pages/index", "data": string(data)})
	wantCode(t, c.node(c.exec(alipay.MethodTemplateSend, string(biz), nil), nodeSend, true), "10000", "")
	if msgs := messages(t, m); len(msgs) != 1 || msgs[0].OpenID != alipay.DemoUserID {
		t.Fatalf("inbox %+v", msgs)
	}
}
