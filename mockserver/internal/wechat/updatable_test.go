package wechat_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

const (
	activityCreate = "/cgi-bin/message/wxopen/activityid/create"
	updatableSend  = "/cgi-bin/message/wxopen/updatablemsg/send"
)

// createActivity creates an activity of app A and returns its id.
func (m *mock) createActivity(tok string, kv ...string) string {
	m.t.Helper()
	r := m.do(http.MethodGet, api(activityCreate, tok, kv...), nil)
	wantMsg(m.t, r, 0, "ok")
	id := r.str("activity_id")
	if !strings.HasPrefix(id, "966_") {
		m.t.Fatalf("activity_id %q: %s", id, r.Body)
	}
	return id
}

func params(kv ...string) map[string]any {
	var list []any
	for i := 0; i+1 < len(kv); i += 2 {
		list = append(list, map[string]any{"name": kv[i], "value": kv[i+1]})
	}
	return map[string]any{"parameter_list": list}
}

func updatable(id string, state any, info map[string]any) map[string]any {
	return map[string]any{"activity_id": id, "target_state": state, "template_info": info}
}

func (m *mock) activities() []mockapi.Activity {
	m.t.Helper()
	list, err := m.Control.Activities(m.ctx, mockapi.PlatformWeChat, appA)
	if err != nil {
		m.t.Fatal(err)
	}
	return list
}

func TestActivityCreate(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm))
	tok := m.token(appA, secretA)
	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		openID  string
		unionID string
	}{
		{"GET without a user", http.MethodGet, api(activityCreate, tok), nil, "", ""},
		{"GET as silenceper sends it", http.MethodGet, api(activityCreate, tok, "unionid", "", "openid", ""), nil, "", ""},
		{"GET with openid", http.MethodGet, api(activityCreate, tok, "openid", userA), nil, userA, ""},
		{"GET with unionid", http.MethodGet, api(activityCreate, tok, "unionid", "oUnion0001"), nil, "", "oUnion0001"},
		{"POST JSON as SKIT sends it", http.MethodPost, api(activityCreate, tok), map[string]string{"openid": userA2, "unionid": ""}, userA2, ""},
		{"POST without a body", http.MethodPost, api(activityCreate, tok), nil, "", ""},
	}
	for i, tt := range tests {
		r := m.do(tt.method, tt.path, tt.body)
		wantMsg(t, r, 0, "ok")
		exp := r.int(t, "expiration_time")
		if !strings.HasPrefix(r.str("activity_id"), "966_") || exp < beijing11pm.Add(24*time.Hour).Unix() || exp > beijing11pm.Add(24*time.Hour+time.Minute).Unix() {
			t.Fatalf("%s: answer %s, want an id and an expiry 24 h on", tt.name, r.Body)
		}
		list := m.activities()
		if len(list) != i+1 {
			t.Fatalf("%s: %d activities", tt.name, len(list))
		}
		a := list[i]
		if a.ActivityID != r.str("activity_id") || a.OpenID != tt.openID || a.UnionID != tt.unionID ||
			a.Status != mockapi.ActivityCreated || a.Text != "" || a.ExpiresAt.Unix() != exp {
			t.Fatalf("%s: activity %+v", tt.name, a)
		}
	}
	wantMsg(t, m.do(http.MethodGet, api(activityCreate, tok, "openid", userB), nil), 40003, "invalid openid")
	wantCode(t, m.do(http.MethodPost, api(activityCreate, tok), "{"), 47001)
	wantCode(t, m.do(http.MethodGet, activityCreate, nil), 41001)
}

// TestUpdatableStateMachine walks one card through its states.
func TestUpdatableStateMachine(t *testing.T) {
	t.Parallel()
	m := start(t, atStart(beijing11pm))
	tok := m.token(appA, secretA)
	id := m.createActivity(tok)
	steps := []struct {
		name   string
		body   any
		code   int64
		status string
		text   string
	}{
		{"members join", updatable(id, 0, params("member_count", "1", "room_limit", "4")), 0, mockapi.ActivityNotStarted, "成员正在加入，当前 1/4 人"},
		{"more join (0 again)", updatable(id, 0, params("member_count", "3", "room_limit", "4")), 0, mockapi.ActivityNotStarted, "成员正在加入，当前 3/4 人"},
		{"state 0 needs room_limit", updatable(id, 0, params("member_count", "3")), 47001, mockapi.ActivityNotStarted, "成员正在加入，当前 3/4 人"},
		{"counts are whole numbers", updatable(id, 0, params("member_count", "three", "room_limit", "4")), 47001, mockapi.ActivityNotStarted, ""},
		{"state 1 needs path and version_type", updatable(id, 1, params("member_count", "4", "room_limit", "4")), 47001, mockapi.ActivityNotStarted, ""},
		{"bad version_type", updatable(id, 1, params("path", "pages/room/room?id=1", "version_type", "beta")), 47503, mockapi.ActivityNotStarted, ""},
		{"state 2 does not exist", updatable(id, 2, params("path", "p", "version_type", "release")), 47502, mockapi.ActivityNotStarted, ""},
		{"state as text", updatable(id, "1", params("path", "p", "version_type", "release")), 47502, mockapi.ActivityNotStarted, ""},
		{"started", updatable(id, 1, params("path", "pages/room/room?id=1", "version_type", "release")), 0, mockapi.ActivityStarted, "已开始"},
		{"started is final", updatable(id, 0, params("member_count", "1", "room_limit", "4")), 47502, mockapi.ActivityStarted, "已开始"},
		{"started again is refused too", updatable(id, 1, params("path", "p", "version_type", "trial")), 47502, mockapi.ActivityStarted, "已开始"},
	}
	for _, st := range steps {
		r := m.do(http.MethodPost, api(updatableSend, tok), st.body)
		wantCode(t, r, st.code)
		a := m.activities()[0]
		if a.Status != st.status || (st.text != "" && a.Text != st.text) {
			t.Fatalf("%s: activity %+v, want %s %q", st.name, a, st.status, st.text)
		}
	}
	a := m.activities()[0]
	if a.Updates != 3 || a.TargetState != 1 || a.Parameters["version_type"] != "release" || a.Parameters["member_count"] != "3" {
		t.Fatalf("activity after the walk: %+v", a)
	}
	// After 24 hours the card shows 已结束 and changes answer 47504.
	id2 := m.createActivity(tok)
	m.advance(24 * time.Hour)
	tok = m.token(appA, secretA)
	wantMsg(t, m.do(http.MethodPost, api(updatableSend, tok), updatable(id2, 0, params("member_count", "1", "room_limit", "2"))), 47504, "activity_id expired")
	for _, a := range m.activities() {
		if a.Status != mockapi.ActivityEnded || a.Text != "已结束" {
			t.Fatalf("activity after 24 h: %+v", a)
		}
	}
}

func TestUpdatableErrors(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.token(appA, secretA)
	tokB := m.token(appB, secretB)
	id := m.createActivity(tok)
	r := m.do(http.MethodGet, api(activityCreate, tokB), nil)
	idB := r.str("activity_id")
	join := params("member_count", "1", "room_limit", "2")
	tests := []struct {
		name string
		body any
		code int64
		msg  string
	}{
		{"empty body", "", 44002, "empty post data"},
		{"not JSON", "[1]", 47001, "data format error"},
		// Observed: a numeric value answers 44002.
		{"numeric value", `{"activity_id":"` + id + `","target_state":0,"template_info":{"parameter_list":[{"name":"member_count","value":1},{"name":"room_limit","value":"2"}]}}`, 44002, "empty post data"},
		{"boolean value", `{"activity_id":"` + id + `","target_state":0,"template_info":{"parameter_list":[{"name":"member_count","value":true}]}}`, 44002, ""},
		{"no activity_id", updatable("", 0, join), 47501, "invalid activity_id"},
		{"unknown activity_id", updatable("966_nope", 0, join), 47501, "invalid activity_id"},
		{"another app's activity", updatable(idB, 0, join), 47501, "invalid activity_id"},
		{"no template_info", map[string]any{"activity_id": id, "target_state": 0}, 47001, "data format error"},
		{"target_state missing is 0", map[string]any{"activity_id": id, "template_info": join}, 0, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.do(http.MethodPost, api(updatableSend, tok), tt.body)
			wantAnswer(t, r, tt.code, tt.msg)
		})
	}
	wantCode(t, m.do(http.MethodGet, api(updatableSend, tok), nil), 43002)
	wantCode(t, m.do(http.MethodPost, updatableSend, updatable(id, 0, join)), 41001)
}
