package wechat_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

// surfaceCall is one well-formed call of a surface endpoint, which
// succeeds (errcode 0) without faults or quotas.
type surfaceCall struct {
	endpoint string
	call     func(m *mock, tok string) reply
	// quotaCode is what the call answers once the app's day quota of the
	// endpoint is 0.
	quotaCode int64
}

func surfaceCalls() []surfaceCall {
	post := func(path string, body any) func(m *mock, tok string) reply {
		return func(m *mock, tok string) reply { return m.do(http.MethodPost, api(path, tok), body) }
	}
	return []surfaceCall{
		{"custom_send", func(m *mock, tok string) reply {
			m.openWindow(userA, "")
			return m.do(http.MethodPost, api(kefuBusiness, tok), text(userA, "x"))
		}, 45009},
		{"custom_typing", func(m *mock, tok string) reply {
			m.openWindow(userA, "")
			return m.do(http.MethodPost, api(kefuTyping, tok), map[string]string{"touser": userA, "command": "CancelTyping"})
		}, 45009},
		{"media_upload", func(m *mock, tok string) reply {
			return m.multipart(api(mediaUpload, tok, "type", "image"), "media", "a.png", pngImage(m.t, 2, 2, 2))
		}, 45009},
		{"media_get", func(m *mock, tok string) reply {
			id := m.upload(tok, pngImage(m.t, 2, 2, 2))
			resp, body := m.raw(http.MethodGet, api("/cgi-bin/media/get", tok, "media_id", id), "", nil)
			r := reply{Status: resp.StatusCode, Body: body, Fields: map[string]any{}}
			if resp.Header.Get("Content-Type") != "image/png" { // an error: JSON
				dec := json.NewDecoder(bytes.NewReader(body))
				dec.UseNumber()
				if err := dec.Decode(&r.Fields); err != nil {
					m.t.Fatalf("media/get answer %s: %v", body, err)
				}
			}
			return r
		}, 45009},
		{"activityid_create", func(m *mock, tok string) reply { return m.do(http.MethodGet, api(activityCreate, tok), nil) }, 45009},
		{"updatablemsg_send", func(m *mock, tok string) reply {
			id := m.do(http.MethodGet, api(activityCreate, tok), nil).str("activity_id")
			return m.do(http.MethodPost, api(updatableSend, tok), updatable(id, 0, params("member_count", "1", "room_limit", "2")))
		}, 45009},
		{"img_sec_check", func(m *mock, tok string) reply {
			return m.multipart(api(imgSecCheck, tok), "media", "a.png", pngImage(m.t, 2, 2, 2))
		}, 45009},
		{"media_check_async", post(mediaCheckAsync, mediaCheckBody("https://cdn.example/a.png", 2, 2, userA, 1)), 45009},
		{"quota_get", post(quotaGet, map[string]string{"cgi_path": "/cgi-bin/token"}), 45009},
		{"clear_quota", post(clearQuota, map[string]string{"appid": appA}), 48006},
		{"clear_quota_v2", func(m *mock, _ string) reply {
			return m.do(http.MethodPost, clearQuota2+"?"+url.Values{"appid": {appA}, "appsecret": {secretA}}.Encode(), nil)
		}, 48006},
		{"rid_get", func(m *mock, tok string) reply {
			rid := ridOf(m.t, m.do(http.MethodPost, api(kefuSend, tok), "{"))
			return m.do(http.MethodPost, api(ridGet, tok), map[string]string{"rid": rid})
		}, 45009},
	}
}

// Every endpoint of the surface answers an injected fault and its quota,
// and lands in the journal under its name.
func TestSurfaceFaultsAndQuotas(t *testing.T) {
	t.Parallel()
	for _, sc := range surfaceCalls() {
		t.Run(sc.endpoint, func(t *testing.T) {
			t.Parallel()
			m := start(t)
			tok := m.token(appA, secretA)
			wantCode(t, sc.call(m, tok), 0)

			id := m.addFault(mockapi.Fault{Endpoint: sc.endpoint, ErrCode: ptr(-1), Times: 1})
			wantMsg(t, sc.call(m, tok), -1, "system error")
			reqs, err := m.Control.Requests(m.ctx, mockclient.RequestFilter{Platform: mockapi.PlatformWeChat, Endpoint: sc.endpoint})
			if err != nil {
				t.Fatal(err)
			}
			faulted := 0
			for _, r := range reqs.Requests {
				if r.Fault == id {
					faulted++
					if r.AppID != appA || r.ErrCode != -1 {
						t.Errorf("faulted call in the journal: %+v", r)
					}
				}
			}
			if faulted != 1 {
				t.Fatalf("journal of %s: %d faulted calls, want 1: %+v", sc.endpoint, faulted, reqs.Requests)
			}

			quotaEndpoint := sc.endpoint
			if quotaEndpoint == "clear_quota_v2" {
				quotaEndpoint = "clear_quota" // both variants count on clear_quota
			}
			m.setQuota(appA, quotaEndpoint, 0, "day")
			wantCode(t, sc.call(m, tok), sc.quotaCode)
		})
	}
	// uniform_send answers 45109 rather than success, but faults and
	// quotas still come first.
	m := start(t)
	tok := m.token(appA, secretA)
	const path = "/cgi-bin/message/wxopen/template/uniform_send"
	m.addFault(mockapi.Fault{Endpoint: "uniform_send", ErrCode: ptr(-1), Times: 1})
	wantCode(t, m.do(http.MethodPost, api(path, tok), "{}"), -1)
	wantCode(t, m.do(http.MethodPost, api(path, tok), "{}"), 45109)
	m.setQuota(appA, "uniform_send", 0, "day")
	wantCode(t, m.do(http.MethodPost, api(path, tok), "{}"), 45009)
}

// A drop fault closes the connection through the tracing wrapper too.
func TestSurfaceDropFault(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	m.addFault(mockapi.Fault{Endpoint: "custom_send", Drop: true, Times: 1})
	req, _ := http.NewRequestWithContext(m.ctx, http.MethodPost, m.URL+api(kefuSend, tok), nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped call answered %d", resp.StatusCode)
	}
}
