package wechat_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/wechat"
)

// canned answers every WeChat call in memory: a stable token, then ok to
// each send (after reading the request body, as a server would).
type canned struct{}

func (canned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	body := `{"errcode":0,"errmsg":"ok","msgid":1234567890123456789}`
	if strings.HasSuffix(r.URL.Path, "/stable_token") {
		body = `{"access_token":"ACCESS_TOKEN_0123456789","expires_in":7200}`
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
}

// BenchmarkSend is the client's own cost per send — the request built and
// encoded, the answer read and decoded — with the network replaced by
// canned answers (the HTTP round trip itself is benchcompare's).
//
//	go test -run '^$' -bench Send -benchmem ./sender/internal/platform/wechat/
func BenchmarkSend(b *testing.B) {
	c, err := wechat.New(wechat.Config{AppID: appID, Secret: secret, BaseURL: "http://wechat.invalid",
		HTTPClient: &http.Client{Transport: canned{}}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := platform.Send{To: userOnce, TemplateID: templateID, Page: "pages/order/detail?id=42",
		Data: map[string]string{"thing1": "无线耳机", "character_string2": "SF42", "time3": "2024-05-01 15:01"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res, err := c.Send(ctx, s); err != nil || res.MsgID != "1234567890123456789" {
			b.Fatalf("%+v %v", res, err)
		}
	}
}
