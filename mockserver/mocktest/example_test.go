package mocktest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// A test against the mock: seed an app, a user, a template and a grant
// through the control API, fetch an access token and send a subscribe
// message the way production code would (with m.URL in place of
// https://api.weixin.qq.com), then read what the user received.
//
// In a Go test, write m := mocktest.Start(t) instead of New and Close: the
// mock then stops when the test ends, and a failure to start fails the test.
func Example() {
	m, err := mocktest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()

	// Seed.
	const appID, secret, user, tmpl = "wx0123456789abcdef", "example-secret", "o_example_user", "order-shipped"
	check(m.Control.AddApp(ctx, mockapi.App{Platform: "wechat", AppID: appID, Secret: secret}))
	must(m.Control.AddTemplate(ctx, mockapi.Template{Platform: "wechat", AppID: appID, TemplateID: tmpl,
		Title: "发货通知", Keywords: []string{"thing1", "character_string2"}}))
	check(m.Control.Grant(ctx, mockapi.Grant{Platform: "wechat", AppID: appID, OpenID: user, TemplateID: tmpl, Count: 1}))

	// The code under test: fetch a token, send a message.
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	q := url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}}
	getJSON(m.URL+"/cgi-bin/token?"+q.Encode(), &tok)
	fmt.Println("token expires in", tok.ExpiresIn, "s")

	body := `{"touser":"` + user + `","template_id":"` + tmpl + `","page":"pages/order/detail?id=42",
		"data":{"thing1":{"value":"Coffee beans"},"character_string2":{"value":"SF1234567890"}}}`
	var sent struct {
		ErrCode int `json:"errcode"`
	}
	postJSON(m.URL+"/cgi-bin/message/subscribe/send?access_token="+url.QueryEscape(tok.AccessToken), body, &sent)
	fmt.Println("send: errcode", sent.ErrCode)

	// The one-time grant is spent: a second send is refused.
	postJSON(m.URL+"/cgi-bin/message/subscribe/send?access_token="+url.QueryEscape(tok.AccessToken), body, &sent)
	fmt.Println("second send: errcode", sent.ErrCode)

	// Read the inbox; Wait blocks until the message is there, so tests of
	// asynchronous senders need no polling loop.
	inbox, err := m.Control.Messages(ctx, mockclient.MessageFilter{OpenID: user, Wait: 5 * time.Second})
	must(err)
	for _, msg := range inbox.Messages {
		fmt.Printf("%s got %s: %s, %s (page %s)\n", msg.OpenID, msg.TemplateID, msg.Data["thing1"], msg.Data["character_string2"], msg.Page)
	}

	// Output:
	// token expires in 7200 s
	// send: errcode 0
	// second send: errcode 43101
	// o_example_user got order-shipped: Coffee beans, SF1234567890 (page pages/order/detail?id=42)
}

// check and must end the example on an error; a test would t.Fatal.
func check[T any](_ T, err error) { must(err) }

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func getJSON(u string, v any) {
	resp, err := http.Get(u)
	must(err)
	defer resp.Body.Close()
	must(json.NewDecoder(resp.Body).Decode(v))
}

func postJSON(u, body string, v any) {
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	must(err)
	defer resp.Body.Close()
	must(json.NewDecoder(resp.Body).Decode(v))
}
