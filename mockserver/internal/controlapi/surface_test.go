package controlapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

func TestSurfaceControlCalls(t *testing.T) {
	t.Parallel()
	withKuaishou := func(t *testing.T) *mocktest.Mock {
		return start(t, mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{demoApp(0),
			{Platform: mockapi.PlatformKuaishou, AppID: "ks700000000000000009", Secret: "s"}}}))
	}
	app := "platform=wechat&app_id=" + appID
	runSteps(t, []step{
		{"activities", http.MethodGet, "/_mock/activities?" + app, nil, http.StatusOK, ""},
		{"activities of an unknown app", http.MethodGet, "/_mock/activities?platform=wechat&app_id=wxnope", nil, http.StatusNotFound, "app_id"},
		{"activities of a platform without them", http.MethodGet, "/_mock/activities?platform=kuaishou&app_id=ks700000000000000009", nil, http.StatusBadRequest, "platform"},
		{"activities without platform", http.MethodGet, "/_mock/activities?app_id=" + appID, nil, http.StatusBadRequest, "platform"},
		{"media", http.MethodGet, "/_mock/media?" + app, nil, http.StatusOK, ""},
		{"media of an unknown app", http.MethodGet, "/_mock/media?platform=wechat&app_id=wxnope", nil, http.StatusNotFound, "app_id"},
		{"media checks", http.MethodGet, "/_mock/media-checks?" + app, nil, http.StatusOK, ""},
		{"media checks of a platform without them", http.MethodGet, "/_mock/media-checks?platform=kuaishou&app_id=ks700000000000000009", nil, http.StatusBadRequest, "platform"},
		{"media checks of an unknown app", http.MethodGet, "/_mock/media-checks?platform=wechat&app_id=wxnope", nil, http.StatusNotFound, "app_id"},
		{"delay", http.MethodPut, "/_mock/media-checks/settings", `{"platform":"wechat","delay":"250ms"}`, http.StatusOK, ""},
		{"delay zero", http.MethodPut, "/_mock/media-checks/settings", `{"platform":"wechat","delay":0}`, http.StatusOK, ""},
		{"negative delay", http.MethodPut, "/_mock/media-checks/settings", `{"platform":"wechat","delay":"-1s"}`, http.StatusBadRequest, "delay"},
		{"delay over 30 min", http.MethodPut, "/_mock/media-checks/settings", `{"platform":"wechat","delay":"31m"}`, http.StatusBadRequest, "delay"},
		{"delay not a duration", http.MethodPut, "/_mock/media-checks/settings", `{"platform":"wechat","delay":"soon"}`, http.StatusBadRequest, "delay"},
		{"delay on kuaishou", http.MethodPut, "/_mock/media-checks/settings", `{"platform":"kuaishou","delay":"1s"}`, http.StatusBadRequest, "platform"},
		{"delay unknown field", http.MethodPut, "/_mock/media-checks/settings", `{"platform":"wechat","wait":"1s"}`, http.StatusBadRequest, "wait"},
		{"settings wrong method", http.MethodGet, "/_mock/media-checks/settings", nil, http.StatusMethodNotAllowed, ""},
	}, withKuaishou)

	// The delay is kept until reset.
	m := startSeeded(t, 0)
	if err := m.Control.SetMediaCheckDelay(ctx(t), wechat, 250*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	got, err := m.Control.MediaChecks(ctx(t), wechat, appID)
	if err != nil || time.Duration(got.Delay) != 250*time.Millisecond || len(got.Checks) != 0 {
		t.Fatalf("media checks = %+v, %v", got, err)
	}
	if err := m.Control.Reset(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if got, err = m.Control.MediaChecks(ctx(t), wechat, appID); err != nil || time.Duration(got.Delay) != 3*time.Second {
		t.Fatalf("media checks after reset = %+v, %v; want the 3 s default", got, err)
	}
	if list, err := m.Control.Activities(ctx(t), wechat, appID); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("activities = %#v, %v; want an empty list", list, err)
	}
	if list, err := m.Control.Media(ctx(t), wechat, appID); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("media = %#v, %v; want an empty list", list, err)
	}
}
