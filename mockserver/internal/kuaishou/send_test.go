package kuaishou_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/kuaishou"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

func TestSendDeliversAndConsumesTheGrant(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	for i := range grantsOfA {
		r := m.send(sendForm(t, tok, userA))
		wantResult(t, r, kuaishou.ResultOK)
		if len(r.Fields) != 1 {
			t.Errorf("success answer %s: want only result", r.Body)
		}
		if got, want := m.remaining(appA, userA, tmplA), grantsOfA-i-1; got != want {
			t.Fatalf("after send %d: %d credits left, want %d", i+1, got, want)
		}
	}
	wantResult(t, m.send(sendForm(t, tok, userA)), kuaishou.ResultNotSubscribed)

	ms := m.messages()
	if len(ms) != grantsOfA {
		t.Fatalf("%d messages in the inbox, want %d", len(ms), grantsOfA)
	}
	got := ms[0]
	want := map[string]string{"thing01": "会员卡", "thing02": "这是一张会员卡", "date01": "2020年02月25号",
		"amount01": "99.50", "number01": "3"}
	if got.AppID != appA || got.OpenID != userA || got.TemplateID != tmplA || got.Page != "pages/card/detail?id=1" {
		t.Errorf("message %+v: wrong app, user, template or page", got)
	}
	for k, v := range want {
		if got.Data[k] != v {
			t.Errorf("data[%s] = %q, want %q", k, got.Data[k], v)
		}
	}
}

func TestSendLongTermGrantIsNotConsumed(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	for range 3 {
		wantResult(t, m.send(sendForm(t, tok, userLong)), kuaishou.ResultOK)
	}
	if got := len(m.messages()); got != 3 {
		t.Fatalf("%d messages, want 3", got)
	}
}

// app_id and access_token may travel in the query or the form (the SDKs put
// them in both places); the body wins when both are present.
func TestSendCredentialsInQueryOrForm(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	tests := []struct {
		name      string
		query     url.Values
		dropForm  []string
		overrides url.Values
		want      kuaishou.Result
	}{
		{"both in form", nil, nil, nil, kuaishou.ResultOK},
		{"both in query", url.Values{"app_id": {appA}, "access_token": {tok}}, []string{"app_id", "access_token"}, nil, kuaishou.ResultOK},
		{"token in query", url.Values{"access_token": {tok}}, []string{"access_token"}, nil, kuaishou.ResultOK},
		{"form token wins over a bad query token", url.Values{"access_token": {"bogus"}}, nil, nil, kuaishou.ResultOK},
		{"bad form token", url.Values{"access_token": {tok}}, nil, url.Values{"access_token": {"bogus"}}, kuaishou.ResultAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sendForm(t, tok, userLong)
			for _, k := range tt.dropForm {
				f.Del(k)
			}
			for k, v := range tt.overrides {
				f[k] = v
			}
			path := sendPath
			if tt.query != nil {
				path += "?" + tt.query.Encode()
			}
			wantResult(t, m.do(http.MethodPost, path, f), tt.want)
		})
	}
}

func TestSendMultipartForm(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	var b strings.Builder
	const boundary = "XyZ0123"
	for k, vs := range sendForm(t, tok, userLong) {
		b.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + vs[0] + "\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	r := m.raw(http.MethodPost, sendPath, "multipart/form-data; boundary="+boundary, strings.NewReader(b.String()))
	wantResult(t, r, kuaishou.ResultOK)
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	m := start(t, func(s *mockapi.Seed) { s.Apps[0].Pages = []string{"pages/card/detail", "pages/index"} })
	tok := m.token(appA, secretA)
	tokB := m.token(appB, secretB)
	data := func(edit func(d map[string]any)) string {
		d := goodData()
		edit(d)
		return dataString(t, d)
	}
	val := func(v any) map[string]any { return map[string]any{"value": v} }
	tests := []struct {
		name   string
		method string
		edit   url.Values // replaces fields; an empty value removes the field
		code   kuaishou.Result
		detail string
	}{
		{"GET", http.MethodGet, nil, kuaishou.ResultBadParam, "POST"},
		{"no app_id", "", url.Values{"app_id": {""}}, kuaishou.ResultBadParam, "app_id"},
		{"no access_token", "", url.Values{"access_token": {""}}, kuaishou.ResultBadParam, "access_token"},
		{"unknown access_token", "", url.Values{"access_token": {"ChFvYXV0aC5hY2Nlc3NUb2tlbhJQbogus"}}, kuaishou.ResultAuth, "invalid"},
		{"token of another app", "", url.Values{"access_token": {tokB}}, kuaishou.ResultAuth, "app_id"},
		{"no template_id", "", url.Values{"template_id": {""}}, kuaishou.ResultBadParam, "template_id"},
		{"no to_user", "", url.Values{"to_user": {""}}, kuaishou.ResultBadParam, "to_user"},
		{"no page", "", url.Values{"page": {""}}, kuaishou.ResultBadParam, "page"},
		{"no data", "", url.Values{"data": {""}}, kuaishou.ResultBadParam, "data"},
		{"data not JSON", "", url.Values{"data": {"{thing01:"}}, kuaishou.ResultBadParam, "data"},
		{"data a JSON array", "", url.Values{"data": {`[1,2]`}}, kuaishou.ResultBadParam, "data"},
		{"data null", "", url.Values{"data": {`null`}}, kuaishou.ResultBadParam, "data"},
		{"unknown user", "", url.Values{"to_user": {"nobody"}}, kuaishou.ResultBadParam, "to_user"},
		{"user of another app", "", url.Values{"to_user": {userB}}, kuaishou.ResultBadParam, "to_user"},
		{"template of another app", "", url.Values{"template_id": {tmplB}}, kuaishou.ResultBadParam, "template_id"},
		{"missing keyword", "", url.Values{"data": {data(func(d map[string]any) { delete(d, "thing02") })}}, kuaishou.ResultBadParam, "data.thing02.value is empty"},
		{"extra keyword", "", url.Values{"data": {data(func(d map[string]any) { d["thing03"] = val("x") })}}, kuaishou.ResultBadParam, "data.thing03"},
		{"WeChat-style key", "", url.Values{"data": {data(func(d map[string]any) { delete(d, "thing01"); d["thing1"] = val("x") })}}, kuaishou.ResultBadParam, "thing01"},
		{"value not an object", "", url.Values{"data": {data(func(d map[string]any) { d["thing01"] = "会员卡" })}}, kuaishou.ResultBadParam, "data.thing01.value invalid"},
		{"value an object", "", url.Values{"data": {data(func(d map[string]any) { d["thing01"] = val(map[string]any{}) })}}, kuaishou.ResultBadParam, "data.thing01.value invalid"},
		{"empty value", "", url.Values{"data": {data(func(d map[string]any) { d["thing01"] = val("") })}}, kuaishou.ResultBadParam, "data.thing01.value is empty"},
		{"thing over 20", "", url.Values{"data": {data(func(d map[string]any) { d["thing01"] = val(strings.Repeat("长", 21)) })}}, kuaishou.ResultBadParam, "data.thing01.value exceeds limit"},
		{"date in ISO form", "", url.Values{"data": {data(func(d map[string]any) { d["date01"] = val("2020-02-25") })}}, kuaishou.ResultBadParam, "data.date01.value invalid"},
		{"amount with unit", "", url.Values{"data": {data(func(d map[string]any) { d["amount01"] = val("99元") })}}, kuaishou.ResultBadParam, "data.amount01.value invalid"},
		{"number with letters", "", url.Values{"data": {data(func(d map[string]any) { d["number01"] = val("3a") })}}, kuaishou.ResultBadParam, "data.number01.value invalid"},
		{"page not published", "", url.Values{"page": {"pages/other"}}, kuaishou.ResultBadParam, "page"},
		{"page a URL", "", url.Values{"page": {"https://example.com/pages/index"}}, kuaishou.ResultBadParam, "page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sendForm(t, tok, userA)
			for k, v := range tt.edit {
				if v[0] == "" {
					f.Del(k)
				} else {
					f[k] = v
				}
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			path := sendPath
			if method == http.MethodGet {
				path += "?" + f.Encode()
				f = nil
			}
			wantDetail(t, m.do(method, path, f), tt.code, tt.detail)
		})
	}
	if got := len(m.messages()); got != 0 {
		t.Fatalf("%d messages delivered by rejected sends, want 0", got)
	}
	if got := m.remaining(appA, userA, tmplA); got != grantsOfA {
		t.Fatalf("rejected sends left %d credits, want %d untouched", got, grantsOfA)
	}
}

func TestSendWithoutSubscription(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	wantResult(t, m.send(sendForm(t, tok, userA2)), kuaishou.ResultNotSubscribed)
	// Revoking a grant (the user unsubscribed) ends sends too.
	wantResult(t, m.send(sendForm(t, tok, userLong)), kuaishou.ResultOK)
	if err := m.Control.Revoke(m.ctx, mockapi.PlatformKuaishou, appA, userLong, tmplA); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	wantResult(t, m.send(sendForm(t, tok, userLong)), kuaishou.ResultNotSubscribed)
}

func TestSendContentRules(t *testing.T) {
	t.Parallel()
	m := start(t)
	if err := m.Control.SetContentRules(m.ctx, mockapi.ContentRules{
		Risky:  []mockapi.ContentWord{{Word: "违禁品"}},
		Review: []mockapi.ContentWord{{Word: "促销"}},
	}); err != nil {
		t.Fatalf("set content rules: %v", err)
	}
	tok := m.token(appA, secretA)
	risky := sendForm(t, tok, userA)
	d := goodData()
	d["thing02"] = map[string]any{"value": "内含违禁品"}
	risky.Set("data", dataString(t, d))
	wantResult(t, m.send(risky), kuaishou.ResultContentRisky)
	if got := m.remaining(appA, userA, tmplA); got != grantsOfA {
		t.Fatalf("a refused send consumed a credit: %d left, want %d", got, grantsOfA)
	}
	// Review-level words pass: the platform has no review verdict at send.
	review := sendForm(t, tok, userA)
	d["thing02"] = map[string]any{"value": "限时促销"}
	review.Set("data", dataString(t, d))
	wantResult(t, m.send(review), kuaishou.ResultOK)
}

// The documented cap: "目前限制调用的qps最大为100". A new app carries it as
// its default limit; the per-second window is exercised with a lower limit,
// so the burst fits in one second of mock time even on a loaded machine.
func TestSendQPSCap(t *testing.T) {
	t.Parallel()
	m := start(t)
	var got struct {
		Quotas []mockapi.Quota `json:"quotas"`
	}
	r := m.raw(http.MethodGet, "/_mock/quotas?platform=kuaishou&app_id="+appA, "", nil)
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("read quotas: %v: %s", err, r.Body)
	}
	found := false
	for _, q := range got.Quotas {
		found = found || q.Endpoint == kuaishou.EndpointTemplateSend && q.Limit == 100 && q.Per == "second"
	}
	if !found {
		t.Fatalf("default quotas %+v lack template_send 100 per second", got.Quotas)
	}

	const limit = 5
	if err := m.Control.SetQuota(m.ctx, mockapi.Quota{Platform: mockapi.PlatformKuaishou, AppID: appA,
		Endpoint: kuaishou.EndpointTemplateSend, Limit: limit, Per: "second"}); err != nil {
		t.Fatalf("set quota: %v", err)
	}
	tok := m.token(appA, secretA)
	for attempt := 0; ; attempt++ {
		// Start just after a second boundary so the burst fits in one window.
		now, err := m.Control.Now(m.ctx)
		if err != nil {
			t.Fatalf("read clock: %v", err)
		}
		window := now.Truncate(time.Second).Add(time.Second)
		m.advance(window.Add(time.Millisecond).Sub(now))
		results := make([]reply, limit+1)
		for i := range results {
			results[i] = m.send(sendForm(t, tok, userLong))
		}
		after, err := m.Control.Now(m.ctx)
		if err != nil {
			t.Fatalf("read clock: %v", err)
		}
		if !after.Truncate(time.Second).Equal(window) {
			if attempt < 5 {
				continue // the burst straddled a second; try again in a fresh window
			}
			t.Fatalf("could not fit %d sends in one second of mock time", limit+1)
		}
		for i, r := range results[:limit] {
			if got := r.result(t); got != int64(kuaishou.ResultOK) {
				t.Fatalf("send %d of %d in one second answered %d, want 1", i+1, limit, got)
			}
		}
		wantDetail(t, results[limit], kuaishou.ResultRateLimited, "per second")
		break
	}
	m.advance(time.Second)
	wantResult(t, m.send(sendForm(t, tok, userLong)), kuaishou.ResultOK)
}

func TestSendQuotaOverride(t *testing.T) {
	t.Parallel()
	m := start(t)
	if err := m.Control.SetQuota(m.ctx, mockapi.Quota{Platform: mockapi.PlatformKuaishou, AppID: appA,
		Endpoint: kuaishou.EndpointTemplateSend, Limit: 2, Per: "minute"}); err != nil {
		t.Fatalf("set quota: %v", err)
	}
	tok := m.token(appA, secretA)
	wantResult(t, m.send(sendForm(t, tok, userLong)), kuaishou.ResultOK)
	wantResult(t, m.send(sendForm(t, tok, userLong)), kuaishou.ResultOK)
	wantDetail(t, m.send(sendForm(t, tok, userLong)), kuaishou.ResultRateLimited, "per minute")
	// Another app is not affected.
	tokB := m.token(appB, secretB)
	f := url.Values{"app_id": {appB}, "access_token": {tokB}, "template_id": {tmplB}, "to_user": {userB},
		"page": {"pages/index"}, "data": {`{"thing01":{"value":"ok"}}`}}
	wantResult(t, m.send(f), kuaishou.ResultOK)
}

func TestSendJournal(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	wantResult(t, m.send(sendForm(t, tok, userA)), kuaishou.ResultOK)
	wantResult(t, m.send(sendForm(t, tok, userA2)), kuaishou.ResultNotSubscribed)
	rs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformKuaishou,
		Endpoint: kuaishou.EndpointTemplateSend})
	if err != nil {
		t.Fatalf("read journal: %v", err)
	}
	if len(rs.Requests) != 2 {
		t.Fatalf("%d journal entries, want 2: %+v", len(rs.Requests), rs.Requests)
	}
	byUser := map[string]mockapi.Request{}
	for _, r := range rs.Requests {
		byUser[r.OpenID] = r
	}
	if r := byUser[userA]; r.AppID != appA || r.ErrCode != 0 || r.Status != http.StatusOK {
		t.Errorf("successful send journaled as %+v, want app A, errcode 0", r)
	}
	if r := byUser[userA2]; r.ErrCode != int(kuaishou.ResultNotSubscribed) {
		t.Errorf("refused send journaled with errcode %d, want %d", r.ErrCode, kuaishou.ResultNotSubscribed)
	}
}
