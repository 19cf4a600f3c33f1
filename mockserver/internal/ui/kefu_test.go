package ui_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The conversation view: the user's buttons open the customer-service
// window; the app's replies arrive as chat bubbles, escaped, and only there.
func TestKefuConversation(t *testing.T) {
	t.Parallel()
	m := start(t)
	view := "/_ui/phone?" + url.Values{"platform": {"wechat"}, "app_id": {appID}, "openid": {alice}, "view": {"kefu"}}.Encode()
	get(t, m, view).expect(t, 200, "<h2>客服消息</h2>", "No window", "No customer-service messages for this user yet", `kind=customer_service`)
	reply := func() sendResult {
		var r sendResult
		wechatCall(t, m, "/cgi-bin/message/custom/send", map[string]any{"touser": alice, "msgtype": "text",
			"text": map[string]string{"content": "您好 " + xss}}, &r)
		return r
	}
	if r := reply(); r.ErrCode == 0 {
		t.Fatalf("a reply without a window was accepted: %+v", r)
	}
	p := post(t, m, "/_ui/kefu/sessions", userForm(alice, "trigger", "message", "page", "phone"), nil)
	if p.status != http.StatusSeeOther || !strings.Contains(p.location, "view=kefu") || !strings.Contains(p.location, "notice=kefu-message") {
		t.Fatalf("write to customer service: %d → %q", p.status, p.location)
	}
	get(t, m, p.location).expect(t, 200, `<dd class="kefu-open">open</dd>`, `<dd class="kefu-remaining">5</dd>`, "5 replies within 48 hours")
	if r := reply(); r.ErrCode != 0 {
		t.Fatalf("reply in the window: %+v", r)
	}
	page := get(t, m, view)
	page.expect(t, 200, `class="bubble c-wechat"`, `<p class="kf-content">您好 `+html.EscapeString(xss)+`</p>`, `<dd class="kefu-remaining">4</dd>`)
	if strings.Contains(page.body, xss) {
		t.Fatal("the reply reached the page unescaped")
	}
	// Not among the service notifications.
	if p := get(t, m, "/_ui/phone?platform=wechat&openid="+alice); strings.Contains(p.body, "kf-content") {
		t.Fatal("a customer-service message shows among the service notifications")
	}
	post(t, m, "/_ui/kefu/sessions", userForm(alice, "trigger", "sideways", "page", "phone"), nil).expect(t, http.StatusBadRequest, "trigger must be")
	// Platforms without customer service have no such tab.
	if p := get(t, m, "/_ui/phone?platform=kuaishou&view=kefu"); strings.Contains(p.body, "客服消息") || !strings.Contains(p.body, "<h2>服务通知</h2>") {
		t.Fatal("kuaishou shows a customer-service view")
	}
}

// The updatable messages' cards show their current state.
func TestActivitiesView(t *testing.T) {
	t.Parallel()
	m := start(t)
	view := "/_ui/phone?" + url.Values{"platform": {"wechat"}, "app_id": {appID}, "openid": {alice}, "view": {"activities"}}.Encode()
	get(t, m, view).expect(t, 200, "<h2>动态消息</h2>", "No updatable messages yet")
	var created struct {
		ErrCode    int    `json:"errcode"`
		ActivityID string `json:"activity_id"`
	}
	wechatCall(t, m, "/cgi-bin/message/wxopen/activityid/create", map[string]string{"openid": alice}, &created)
	if created.ActivityID == "" {
		t.Fatalf("activityid/create: %+v", created)
	}
	get(t, m, view).expect(t, 200, `id="activity-`+created.ActivityID+`"`, `<dd class="act-status">created</dd>`)
	var sent sendResult
	wechatCall(t, m, "/cgi-bin/message/wxopen/updatablemsg/send", map[string]any{"activity_id": created.ActivityID, "target_state": 0,
		"template_info": map[string]any{"parameter_list": []map[string]string{{"name": "member_count", "value": "3"}, {"name": "room_limit", "value": "10"}}}}, &sent)
	if sent.ErrCode != 0 {
		t.Fatalf("updatablemsg/send: %+v", sent)
	}
	get(t, m, view).expect(t, 200, "成员正在加入，当前 3/10 人", `<dd class="act-status">not_started</dd>`)
}
