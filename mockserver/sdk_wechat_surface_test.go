package mockserver_test

// The public silenceper/wechat SDK (v2.1.10) against the message surface
// beyond subscribe messages, unmodified but for its HTTP transport (see
// sdk_wechat_test.go for why none of these tests run in parallel). The
// mini-program client has no temporary-media or typing calls; the SDK's
// Official Account client calls the same paths, so those go through it.

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	wechat "github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/domain/openapi"
	"github.com/silenceper/wechat/v2/miniprogram/message"
	"github.com/silenceper/wechat/v2/miniprogram/security"
	"github.com/silenceper/wechat/v2/miniprogram/subscribe"
	"github.com/silenceper/wechat/v2/officialaccount"
	offConfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/customerservice"
	"github.com/silenceper/wechat/v2/officialaccount/material"
	"github.com/silenceper/wechat/v2/util"

	"github.com/minipush/minipush/mockserver/internal/content"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// newOfficialAccount is the SDK's Official Account client for the same
// app: its media and typing calls are the mini-program's paths.
func newOfficialAccount() *officialaccount.OfficialAccount {
	return wechat.NewWechat().GetOfficialAccount(&offConfig.Config{AppID: sdkAppID, AppSecret: sdkSecret, Cache: cache.NewMemory()})
}

// sdkImage writes a small PNG (pixels varying with seed) to a temporary
// file and returns its path and bytes.
func sdkImage(t *testing.T, seed uint8) (string, []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 6, 6))
	for i := range img.Pix {
		img.Pix[i] = uint8(i) + seed
	}
	img.Set(0, 0, color.RGBA{A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.png")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, b.Bytes()
}

// wantSDKCode checks an SDK error is the platform's errcode.
func wantSDKCode(t *testing.T, what string, err error, code int64) {
	t.Helper()
	var ce *util.CommonError
	if !errors.As(err, &ce) || ce.ErrCode != code || !strings.Contains(ce.ErrMsg, "rid: ") {
		t.Fatalf("%s: error %v, want *util.CommonError with errcode %d and a rid", what, err, code)
	}
}

func openSession(t *testing.T, m *mocktest.Mock, openID string) {
	t.Helper()
	if _, err := m.Control.OpenKefuSession(context.Background(), mockapi.KefuSession{Platform: mockapi.PlatformWeChat,
		AppID: sdkAppID, OpenID: openID}); err != nil {
		t.Fatal(err)
	}
}

func TestSilenceperSDKCustomerMessage(t *testing.T) {
	m := startSDK(t)
	mgr := newMini(sdkAppID, sdkSecret, false).GetCustomerMessage()
	oa := newOfficialAccount()

	// No window: the user has not written.
	wantSDKCode(t, "Send before the user wrote", mgr.Send(message.NewCustomerTextMessage(sdkUser, "您好")), 45015)

	openSession(t, m, sdkUser)
	path, _ := sdkImage(t, 1)
	media, err := oa.GetMaterial().MediaUpload(material.MediaTypeImage, path)
	if err != nil || len(media.MediaID) != 64 || media.Type != material.MediaTypeImage {
		t.Fatalf("MediaUpload = %+v, %v", media, err)
	}
	if err := oa.GetCustomerServiceManager().SendTypingStatus(sdkUser, customerservice.Typing); err != nil {
		t.Fatalf("SendTypingStatus: %v", err)
	}
	wantSDKCode(t, "Typing twice", oa.GetCustomerServiceManager().SendTypingStatus(sdkUser, customerservice.Typing), 45081)
	msgs := []*message.CustomerMessage{
		message.NewCustomerTextMessage(sdkUser, "您的订单已发货"),
		message.NewCustomerImgMessage(sdkUser, media.MediaID),
		message.NewCustomerLinkMessage(sdkUser, "订单详情", "点击查看", "https://shop.example/o/1", "https://shop.example/t.png"),
		message.NewCustomerMiniprogrampageMessage(sdkUser, "订单", "pages/order/detail?id=1", media.MediaID),
		message.NewCustomerTextMessage(sdkUser, "还有问题请回复"),
	}
	for _, msg := range msgs {
		if err := mgr.Send(msg); err != nil {
			t.Fatalf("Send %s: %v", msg.Msgtype, err)
		}
	}
	wantSDKCode(t, "a sixth reply", mgr.Send(message.NewCustomerTextMessage(sdkUser, "再见")), 45047)
	// The message is checked before the window.
	wantSDKCode(t, "an unknown media_id", mgr.Send(message.NewCustomerImgMessage(sdkUserLong, "nope")), 40007)

	got, err := m.Control.Messages(context.Background(), mockclient.MessageFilter{Kind: mockapi.KindCustomerService})
	if err != nil || len(got.Messages) != len(msgs) {
		t.Fatalf("customer-service inbox = %+v, %v", got, err)
	}
	for i, in := range got.Messages {
		if in.MsgType != string(msgs[i].Msgtype) || in.OpenID != sdkUser {
			t.Errorf("message %d = %+v, want a %s to %s", i, in, msgs[i].Msgtype, sdkUser)
		}
	}
	if got.Messages[1].Data["media_id"] != media.MediaID || got.Messages[3].Data["thumb_media_id"] != media.MediaID ||
		got.Messages[3].Page != "pages/order/detail?id=1" {
		t.Errorf("image and card messages = %+v, %+v", got.Messages[1], got.Messages[3])
	}
	// The SDK's miniprogrampage always carries "appid":""; the mock takes
	// empty as absent.
	if _, has := got.Messages[3].Data["appid"]; has {
		t.Errorf("card data %v holds the SDK's empty appid", got.Messages[3].Data)
	}
}

func TestSilenceperSDKTemporaryMedia(t *testing.T) {
	m := startSDK(t)
	mat := newOfficialAccount().GetMaterial()
	path, data := sdkImage(t, 2)
	before := time.Now().Add(-time.Minute).Unix()
	media, err := mat.MediaUpload(material.MediaTypeImage, path)
	if err != nil || media.CreatedAt < before || media.CreatedAt > time.Now().Add(time.Minute).Unix() {
		t.Fatalf("MediaUpload = %+v, %v; want created_at as the SDK's int64", media, err)
	}
	fromReader, err := mat.MediaUploadFromReader(material.MediaTypeImage, "b.png", bytes.NewReader(data))
	if err != nil || fromReader.MediaID == media.MediaID {
		t.Fatalf("MediaUploadFromReader = %+v, %v", fromReader, err)
	}
	// GetMediaURL only builds the URL; fetch it as a client would.
	u, err := mat.GetMediaURL(media.MediaID)
	if err != nil || !strings.HasPrefix(u, "https://api.weixin.qq.com/cgi-bin/media/get?") {
		t.Fatalf("GetMediaURL = %q, %v", u, err)
	}
	resp, err := util.DefaultHTTPClient.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, data) || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("media/get: %s, %d bytes", resp.Header.Get("Content-Type"), len(body))
	}
	// The SDK reports upload errors as plain text.
	if _, err := mat.MediaUpload(material.MediaTypeVoice, path); err == nil || !strings.Contains(err.Error(), "errcode=40004") {
		t.Fatalf("MediaUpload(voice) = %v, want errcode=40004", err)
	}
	list, err := m.Control.Media(context.Background(), mockapi.PlatformWeChat, sdkAppID)
	if err != nil || len(list) != 2 || list[0].SHA256 != content.ImageDigest(data) {
		t.Fatalf("GET /_mock/media = %+v, %v", list, err)
	}
}

func TestSilenceperSDKUpdatableMessage(t *testing.T) {
	m := startSDK(t)
	um := newMini(sdkAppID, sdkSecret, false).GetUpdatableMessage()
	res, err := um.CreateActivityID()
	if err != nil || !strings.HasPrefix(res.ActivityID, "966_") || res.ExpirationTime < time.Now().Add(23*time.Hour).Unix() {
		t.Fatalf("CreateActivityID = %+v, %v", res, err)
	}
	private, err := um.CreateActivityIDWithReq(&message.CreateActivityIDRequest{OpenID: sdkUser})
	if err != nil || private.ActivityID == res.ActivityID {
		t.Fatalf("CreateActivityIDWithReq = %+v, %v", private, err)
	}
	param := func(kv ...string) message.UpdatableMsgTemplate {
		var tpl message.UpdatableMsgTemplate
		for i := 0; i+1 < len(kv); i += 2 {
			tpl.ParameterList = append(tpl.ParameterList, message.UpdatableMsgParameter{Name: kv[i], Value: kv[i+1]})
		}
		return tpl
	}
	if err := um.SetUpdatableMsg(res.ActivityID, message.TargetStateNotStarted, param("member_count", "2", "room_limit", "5")); err != nil {
		t.Fatalf("SetUpdatableMsg(0): %v", err)
	}
	// The SDK defines TargetStateFinished = 2; the doc knows only 0 and 1,
	// and the mock follows the doc.
	wantSDKCode(t, "SetUpdatableMsg(TargetStateFinished)", um.SetUpdatableMsg(res.ActivityID, message.TargetStateFinished,
		param("path", "pages/room/room", "version_type", "release")), 47502)
	wantSDKCode(t, "SetUpdatableMsg(1) without path", um.SetUpdatableMsg(res.ActivityID, message.TargetStateStarted,
		param("version_type", "release")), 47001)
	if err := um.SetUpdatableMsg(res.ActivityID, message.TargetStateStarted, param("path", "pages/room/room", "version_type", "release")); err != nil {
		t.Fatalf("SetUpdatableMsg(1): %v", err)
	}
	wantSDKCode(t, "SetUpdatableMsg on an unknown id", um.SetUpdatableMsg("966_nope", message.TargetStateNotStarted,
		param("member_count", "1", "room_limit", "2")), 47501)
	acts, err := m.Control.Activities(context.Background(), mockapi.PlatformWeChat, sdkAppID)
	if err != nil || len(acts) != 2 {
		t.Fatalf("activities = %+v, %v", acts, err)
	}
	for _, a := range acts {
		switch a.ActivityID {
		case res.ActivityID:
			if a.Status != mockapi.ActivityStarted || a.Text != "已开始" || a.Updates != 2 {
				t.Errorf("shared activity = %+v", a)
			}
		case private.ActivityID:
			if a.OpenID != sdkUser || a.Status != mockapi.ActivityCreated {
				t.Errorf("private activity = %+v", a)
			}
		}
	}
}

func TestSilenceperSDKImageChecks(t *testing.T) {
	m := startSDK(t)
	cleanPath, _ := sdkImage(t, 3)
	riskyPath, risky := sdkImage(t, 4)
	if err := m.Control.SetContentRules(context.Background(), mockapi.ContentRules{
		RiskyImages: []string{content.ImageDigest(risky), "https://cdn.example/risky.jpg"}}); err != nil {
		t.Fatal(err)
	}
	mini := newMini(sdkAppID, sdkSecret, false)
	sec := mini.GetSecurity()
	if err := sec.ImageCheckV1(cleanPath); err != nil {
		t.Errorf("ImageCheckV1(clean): %v", err)
	}
	wantSDKCode(t, "ImageCheckV1(risky)", sec.ImageCheckV1(riskyPath), 87014)
	if err := mini.GetContentSecurity().CheckImage(cleanPath); err != nil {
		t.Errorf("CheckImage(clean): %v", err)
	}
	wantSDKCode(t, "CheckImage(risky)", mini.GetContentSecurity().CheckImage(riskyPath), 87014)

	tid, err := sec.MediaCheckAsync(&security.MediaCheckAsyncRequest{MediaURL: "https://cdn.example/risky.jpg", MediaType: 2,
		OpenID: sdkUser, Scene: uint8(security.MsgSceneForum)})
	if err != nil || len(tid) != 26 {
		t.Fatalf("MediaCheckAsync = %q, %v", tid, err)
	}
	tid1, err := sec.MediaCheckAsyncV1(&security.MediaCheckAsyncV1Request{MediaURL: "https://cdn.example/ok.mp3", MediaType: 1})
	if err != nil || tid1 == "" {
		t.Fatalf("MediaCheckAsyncV1 = %q, %v", tid1, err)
	}
	_, err = sec.MediaCheckAsync(&security.MediaCheckAsyncRequest{MediaURL: "https://cdn.example/a.jpg", MediaType: 2, OpenID: "nobody", Scene: 1})
	wantSDKCode(t, "MediaCheckAsync(unknown openid)", err, 40003)
	checks, err := m.Control.MediaChecks(context.Background(), mockapi.PlatformWeChat, sdkAppID)
	if err != nil || len(checks.Checks) != 2 || checks.Checks[0].TraceID != tid || checks.Checks[0].Suggest != "risky" ||
		checks.Checks[0].Version != 2 || checks.Checks[1].TraceID != tid1 || checks.Checks[1].Version != 0 || checks.Checks[1].Suggest != "pass" {
		t.Fatalf("media checks = %+v, %v", checks, err)
	}
}

func TestSilenceperSDKOpenAPI(t *testing.T) {
	m := startSDK(t)
	mini := newMini(sdkAppID, sdkSecret, false)
	api := mini.GetOpenAPI()
	if err := mini.GetSubscribe().Send(shippedMessage(sdkUser)); err != nil {
		t.Fatal(err)
	}
	q, err := api.GetAPIQuota(openapi.GetAPIQuotaParams{CgiPath: "/cgi-bin/message/subscribe/send"})
	if err != nil || q.Quota.DailyLimit != 10_000_000 || q.Quota.Used != 1 || q.Quota.Remain != 10_000_000-1 {
		t.Fatalf("GetAPIQuota = %+v, %v", q, err)
	}
	_, err = api.GetAPIQuota(openapi.GetAPIQuotaParams{CgiPath: "/cgi-bin/nothing"})
	wantSDKCode(t, "GetAPIQuota(unknown path)", err, 76021)

	// A failing call's rid tells about it.
	failed := mini.GetSubscribe().Send(shippedMessage(sdkStranger))
	var ce *util.CommonError
	if !errors.As(failed, &ce) || ce.ErrCode != 43101 {
		t.Fatalf("Send without a grant: %v", failed)
	}
	rid := ce.ErrMsg[strings.LastIndex(ce.ErrMsg, "rid: ")+len("rid: "):]
	info, err := api.GetRidInfo(openapi.GetRidInfoParams{Rid: rid})
	if err != nil || info.Request.InvokeTime == 0 || !strings.Contains(info.Request.ResponseBody, "43101") ||
		!strings.Contains(info.Request.RequestBody, sdkStranger) || info.Request.ClientIP != "127.0.0.1" {
		t.Fatalf("GetRidInfo = %+v, %v", info, err)
	}

	// Clearing really resets the counters; both variants.
	if err := api.ClearQuota(); err != nil {
		t.Fatalf("ClearQuota: %v", err)
	}
	if q, err = api.GetAPIQuota(openapi.GetAPIQuotaParams{CgiPath: "/cgi-bin/message/subscribe/send"}); err != nil || q.Quota.Used != 0 {
		t.Fatalf("GetAPIQuota after ClearQuota = %+v, %v; want 0 used", q, err)
	}
	if err := api.ClearQuotaByAppSecret(); err != nil {
		t.Fatalf("ClearQuotaByAppSecret: %v", err)
	}
	// The SDK puts the AppSecret in the URL; the journal keeps only the
	// path, never the query.
	reqs, err := m.Control.Requests(context.Background(), mockclient.RequestFilter{Endpoint: "clear_quota_v2"})
	if err != nil || len(reqs.Requests) != 1 || strings.Contains(reqs.Requests[0].Path, sdkSecret) {
		t.Fatalf("journal of clear_quota_v2 = %+v, %v", reqs, err)
	}
	if err := m.Control.SetQuota(context.Background(), mockapi.Quota{Platform: mockapi.PlatformWeChat, AppID: sdkAppID,
		Endpoint: "clear_quota", Limit: 2, Per: "month"}); err != nil {
		t.Fatal(err)
	}
	wantSDKCode(t, "a third clear this month", api.ClearQuota(), 48006)
}

func TestSilenceperSDKUniformSend(t *testing.T) {
	startSDK(t)
	msg := &subscribe.UniformMessage{ToUser: sdkUser}
	msg.MpTemplateMsg.Appid = "wx0fa0000000000000"
	msg.MpTemplateMsg.TemplateID = "tmpl"
	err := newMini(sdkAppID, sdkSecret, false).GetSubscribe().UniformSend(msg)
	wantSDKCode(t, "UniformSend", err, 45109)
	if !strings.Contains(err.Error(), "This API has been unsupported") {
		t.Fatalf("UniformSend error %v", err)
	}
}
