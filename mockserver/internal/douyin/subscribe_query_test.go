package douyin_test

import (
	"net/http"
	"testing"

	"github.com/minipush/minipush/mockserver/mockapi"
)

func TestQueryUserSubscribe(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.clientToken(appA, secretA)
	cases := []struct {
		name          string
		body          any
		errNo, status int64
	}{
		{"one-time credits", map[string]string{"msg_id": tmplA, "open_id": userA}, 0, 1},
		{"long-term", map[string]string{"msg_id": tmplLong, "open_id": userA}, 0, 2},
		{"no grant", map[string]string{"msg_id": tmplA, "open_id": userNoGrant}, 0, 0},
		{"not JSON", `{"msg_id":`, 28014001, 0},
		{"no msg_id", map[string]string{"open_id": userA}, 28014001, 0},
		{"no open_id", map[string]string{"msg_id": tmplA}, 28014001, 0},
		{"unknown user", map[string]string{"msg_id": tmplA, "open_id": "_000nobody"}, 28014001, 0},
		{"user of another app", map[string]string{"msg_id": tmplA, "open_id": userB}, 28014001, 0},
		{"template of another app", map[string]string{"msg_id": tmplB, "open_id": userA}, 28014001, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := m.open(tok, http.MethodPost, "query_user_subscribe", nil, tc.body)
			wantErrNo(t, r, tc.errNo)
			if tc.errNo != 0 {
				return
			}
			if got := r.num(t, "data.subscribe_status"); got != tc.status {
				t.Fatalf("subscribe_status %d, want %d: %s", got, tc.status, r.Body)
			}
			if v, _ := r.get("data.user_allow_notification"); v != false {
				t.Fatalf("user_allow_notification %v: %s", v, r.Body)
			}
		})
	}
}

// The status follows the grants: spending the last one-time credit makes
// it 0; a control-API grant makes it 1 again; a rejection 0.
func TestQueryUserSubscribeFollowsGrants(t *testing.T) {
	t.Parallel()
	m := start(t)
	tok := m.clientToken(appA, secretA)
	status := func() int64 {
		t.Helper()
		r := m.open(tok, http.MethodPost, "query_user_subscribe", nil, map[string]string{"msg_id": tmplA, "open_id": userA2})
		wantErrNo(t, r, 0)
		return r.num(t, "data.subscribe_status")
	}
	if s := status(); s != 1 {
		t.Fatalf("before the send: %d", s)
	}
	wantErrNo(t, m.notifyV2(tok, tmplA, userA2, goodData()), 0)
	if s := status(); s != 0 {
		t.Fatalf("after the only credit was spent: %d", s)
	}
	if _, err := m.Control.Grant(m.ctx, mockapi.Grant{Platform: mockapi.PlatformDouyin, AppID: appA, OpenID: userA2, TemplateID: tmplA, Count: 2}); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != 1 {
		t.Fatalf("after a new grant: %d", s)
	}
	if err := m.Control.Revoke(m.ctx, mockapi.PlatformDouyin, appA, userA2, tmplA); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != 4 {
		t.Fatalf("after the user turned the one-time template off: %d, want 4", s)
	}
	if _, err := m.Control.Grant(m.ctx, mockapi.Grant{Platform: mockapi.PlatformDouyin, AppID: appA, OpenID: userA2, TemplateID: tmplA, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != 1 {
		t.Fatalf("after accepting it again: %d, want 1", s)
	}
	// A long-term template turned off reads 3.
	if err := m.Control.Revoke(m.ctx, mockapi.PlatformDouyin, appA, userA, tmplLong); err != nil {
		t.Fatal(err)
	}
	r := m.open(tok, http.MethodPost, "query_user_subscribe", nil, map[string]string{"msg_id": tmplLong, "open_id": userA})
	if wantErrNo(t, r, 0); r.num(t, "data.subscribe_status") != 3 {
		t.Fatalf("long-term template turned off: %s", r.Body)
	}
}
