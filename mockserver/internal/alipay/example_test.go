package alipay_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/internal/alipay"
	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mocktest"
)

// A mock seeded with the demo app, called the way the official SDKs call
// the gateway: common parameters in the query, biz_content in the form
// body, RSA2 over the sorted parameters.
func ExampleDemoApp() {
	m, err := mocktest.New(mockserver.WithSeed(mockapi.Seed{Apps: []mockapi.App{alipay.DemoApp()}}))
	if err != nil {
		panic(err)
	}
	defer m.Close()

	p := map[string]string{
		"app_id": alipay.DemoAppID, "method": alipay.MethodContentDetect, "charset": "utf-8",
		"sign_type": "RSA2", "timestamp": time.Now().Format("2006-01-02 15:04:05"), "version": "1.0",
		"biz_content": `{"content":"hello"}`,
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, k+"="+p[k])
	}
	block, _ := pem.Decode([]byte(alipay.DemoAppPrivateKeyPEM))
	key, _ := x509.ParsePKCS1PrivateKey(block.Bytes)
	sum := sha256.Sum256([]byte(strings.Join(pairs, "&")))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	p["sign"] = base64.StdEncoding.EncodeToString(sig)

	query, form := url.Values{}, url.Values{}
	for k, v := range p {
		if k == "biz_content" {
			form.Set(k, v)
		} else {
			query.Set(k, v)
		}
	}
	resp, err := http.Post(m.URL+"/gateway.do?"+query.Encode(), "application/x-www-form-urlencoded;charset=UTF-8",
		strings.NewReader(form.Encode()))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var answer struct {
		Node struct {
			Code   string `json:"code"`
			Action string `json:"action"`
		} `json:"alipay_security_risk_content_detect_response"`
		Sign string `json:"sign"`
	}
	_ = json.Unmarshal(body, &answer)
	fmt.Println(answer.Node.Code, answer.Node.Action, answer.Sign != "")
	// Output: 10000 PASSED true
}
