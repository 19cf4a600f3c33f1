package alipay_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

func addFault(t *testing.T, m *mocktest.Mock, f mockapi.Fault) string {
	t.Helper()
	f.Platform = mockapi.PlatformAlipay
	id, err := m.Control.AddFault(context.Background(), f)
	if err != nil {
		t.Fatalf("add fault: %v", err)
	}
	return id
}

func code(n int) *int { return &n }

func TestFaults(t *testing.T) {
	t.Parallel()
	t.Run("gateway fault hits every method", func(t *testing.T) {
		t.Parallel()
		m, c := start(t)
		id := addFault(t, m, mockapi.Fault{Endpoint: alipay.EndpointGateway, ErrCode: code(20000), Times: 2})
		wantCode(t, c.node(c.exec(alipay.MethodContentDetect, detectBiz, nil), nodeDetect, true), "20000", "isp.unknow-error")
		wantCode(t, c.node(c.exec(alipay.MethodTemplateSend, sendBiz(userID), nil), nodeSend, true), "20000", "isp.unknow-error")
		// Spent (times 2): the next call is served normally.
		wantCode(t, c.node(c.exec(alipay.MethodContentDetect, detectBiz, nil), nodeDetect, true), "10000", "")
		j := journal(t, m)
		if j[0].Fault != id || j[0].ErrCode != 20000 || j[0].Endpoint != alipay.EndpointContentDetect ||
			j[1].Fault != id || j[1].OpenID != userID || j[2].Fault != "" {
			t.Fatalf("journal %+v", j)
		}
	})
	t.Run("method fault with sub_code", func(t *testing.T) {
		t.Parallel()
		m, c := start(t)
		grant(t, m, userID, 1)
		addFault(t, m, mockapi.Fault{Endpoint: alipay.EndpointTemplateSend, ErrCode: code(40004),
			ErrMsg: "USER_NOT_SUBSCRIBED 用户已取消订阅", OpenID: userID})
		wantCode(t, c.node(c.exec(alipay.MethodContentDetect, detectBiz, nil), nodeDetect, true), "10000", "")
		n := c.node(c.exec(alipay.MethodTemplateSend, sendBiz(userID), nil), nodeSend, true)
		wantCode(t, n, "40004", "USER_NOT_SUBSCRIBED")
		if n["sub_msg"] != "用户已取消订阅" || n["msg"] != "Business Failed" {
			t.Fatalf("node %v", n)
		}
		if remaining(t, m, userID) != 1 || len(messages(t, m)) != 0 {
			t.Fatal("a faulted send spent the grant or delivered")
		}
	})
	t.Run("-1 is system busy", func(t *testing.T) {
		t.Parallel()
		m, c := start(t)
		addFault(t, m, mockapi.Fault{Endpoint: alipay.EndpointContentDetect, ErrCode: code(-1)})
		wantCode(t, c.node(c.exec(alipay.MethodContentDetect, detectBiz, nil), nodeDetect, true), "20000", "isp.unknow-error")
		if j := journal(t, m); j[0].ErrCode != 20000 {
			t.Fatalf("journal errcode %d, want 20000", j[0].ErrCode)
		}
	})
	t.Run("0 is a success that loses the message", func(t *testing.T) {
		t.Parallel()
		m, c := start(t)
		grant(t, m, userID, 1)
		addFault(t, m, mockapi.Fault{Endpoint: alipay.EndpointTemplateSend, ErrCode: code(0)})
		wantCode(t, c.node(c.exec(alipay.MethodTemplateSend, sendBiz(userID), nil), nodeSend, true), "10000", "")
		if len(messages(t, m)) != 0 || remaining(t, m, userID) != 1 {
			t.Fatal("a faked success delivered or spent the grant")
		}
		if j := journal(t, m); j[0].ErrCode != 0 || j[0].Fault == "" {
			t.Fatalf("journal %+v", j[0])
		}
	})
	t.Run("oauth fault answers in error_response", func(t *testing.T) {
		t.Parallel()
		m, c := start(t)
		addFault(t, m, mockapi.Fault{Endpoint: alipay.EndpointOAuthToken, ErrCode: code(40002), ErrMsg: "isv.code-invalid"})
		n := c.node(c.token("authorization_code", "code", "x"), "error_response", true)
		wantCode(t, n, "40002", "isv.code-invalid")
		if n["sub_msg"] != "授权码code无效" {
			t.Fatalf("sub_msg %v", n["sub_msg"])
		}
	})
	t.Run("http status", func(t *testing.T) {
		t.Parallel()
		m, c := start(t)
		addFault(t, m, mockapi.Fault{Endpoint: alipay.EndpointGateway, HTTPStatus: http.StatusBadGateway})
		if r := c.exec(alipay.MethodContentDetect, detectBiz, nil); r.status != http.StatusBadGateway {
			t.Fatalf("status %d, want 502", r.status)
		}
	})
	t.Run("unknown app is unsigned", func(t *testing.T) {
		t.Parallel()
		m, c := start(t)
		addFault(t, m, mockapi.Fault{Endpoint: alipay.EndpointGateway, ErrCode: code(20000)})
		other := *c
		other.appID = "2021009999999999"
		wantCode(t, c.node(c.call(viaSDK, other.params(alipay.MethodContentDetect, detectBiz, nil)), nodeDetect, false),
			"20000", "isp.unknow-error")
	})
}

func TestQuota(t *testing.T) {
	t.Parallel()
	m, c := start(t)
	grant(t, m, userID, 5)
	if err := m.Control.SetQuota(context.Background(), mockapi.Quota{Platform: mockapi.PlatformAlipay, AppID: appID,
		Endpoint: alipay.EndpointTemplateSend, Limit: 1, Per: "day"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.node(c.exec(alipay.MethodTemplateSend, sendBiz(userID), nil), nodeSend, true), "10000", "")
	wantCode(t, c.node(c.exec(alipay.MethodTemplateSend, sendBiz(userID), nil), nodeSend, true), "40004", "isv.app-call-limited")
	// Other methods have their own quota.
	wantCode(t, c.node(c.exec(alipay.MethodContentDetect, detectBiz, nil), nodeDetect, true), "10000", "")
	if n := remaining(t, m, userID); n != 4 {
		t.Fatalf("grants left %d, want 4", n)
	}
}
