package seed_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/minipush/minipush/internal/mdblocks"
	"github.com/minipush/minipush/mockserver"
	"github.com/minipush/minipush/mockserver/mocktest"
	"github.com/minipush/minipush/mockserver/seed"
)

// Every seed the README shows loads into a mock, and each WeChat app in it
// gets an access token when called from this machine: an example copied
// into a local mock works (an ip_whitelist that names another address
// would answer every token call 40164).
func TestREADMESeedsWork(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, b := range mdblocks.Parse(readme) {
		if b.Lang != "yaml" || !strings.Contains(b.Text, "app_id:") || strings.Contains(b.Text, "api_keys:") ||
			strings.HasPrefix(b.Text, "listen:") || strings.Contains(b.Text, "services:") {
			continue // not a seed: the sender's configuration, a CI file
		}
		found++
		t.Run("README.md:"+strconv.Itoa(b.Line), func(t *testing.T) {
			t.Parallel()
			s, err := seed.Parse([]byte(b.Text), false)
			if err != nil {
				t.Fatalf("seed.Parse: %v", err)
			}
			m := mocktest.Start(t, mockserver.WithSeed(s))
			for _, app := range s.Apps {
				if app.Platform != "wechat" {
					continue
				}
				q := url.Values{"grant_type": {"client_credential"}, "appid": {app.AppID}, "secret": {app.Secret}}
				resp, err := http.Get(m.URL + "/cgi-bin/token?" + q.Encode())
				if err != nil {
					t.Fatal(err)
				}
				var tok struct {
					AccessToken string `json:"access_token"`
					ErrCode     int    `json:"errcode"`
				}
				err = json.NewDecoder(resp.Body).Decode(&tok)
				resp.Body.Close()
				if err != nil || tok.AccessToken == "" {
					t.Errorf("app %s: no token from 127.0.0.1 (errcode %d, %v)", app.AppID, tok.ErrCode, err)
				}
			}
		})
	}
	if found < 2 {
		t.Fatalf("%d seeds found in the README, want at least 2 (the seed file and the push settings)", found)
	}
}
