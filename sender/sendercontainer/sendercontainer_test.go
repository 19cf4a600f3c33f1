package sendercontainer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mockcontainer"
	"github.com/minipush/minipush/sender/sendercontainer"
)

// requireDocker runs container tests only when asked to
// (MINIPUSH_CONTAINER_TESTS=1 or MINIPUSH_REQUIRE_DOCKER=1): they build
// images, which `make test` should not do on every run.
func requireDocker(t *testing.T) {
	t.Helper()
	required := os.Getenv("MINIPUSH_REQUIRE_DOCKER") == "1"
	if !required && os.Getenv("MINIPUSH_CONTAINER_TESTS") != "1" {
		t.Skip("container tests are off: set MINIPUSH_CONTAINER_TESTS=1 (make bdd-containers does)")
	}
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	if h := os.Getenv("DOCKER_HOST"); os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" && (h == "" || strings.HasPrefix(h, "unix://")) {
		t.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}
	p, err := testcontainers.NewDockerProvider()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = p.Health(ctx)
		cancel()
	}
	if err != nil {
		if required {
			t.Fatalf("docker is required (MINIPUSH_REQUIRE_DOCKER=1) but not usable: %v", err)
		}
		t.Skipf("docker is not usable, skipping: %v", err)
	}
}

const apiKey = "container-test-key-0001"

// The sender in its container delivers through the mock container on the
// private network, and after a stop and start (a new mapped port) still
// knows the message: its database is in the container's writable layer.
func TestRun(t *testing.T) {
	requireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	labels := map[string]string{mockcontainer.LabelManaged: "true", "org.minipush.test": "sendercontainer"}
	nw, err := network.New(ctx, network.WithLabels(labels))
	testcontainers.CleanupNetwork(t, nw)
	if err != nil {
		t.Fatal(err)
	}
	seed := mockapi.Seed{Apps: []mockapi.App{{Platform: "wechat", AppID: "wxcontainer000002", Secret: "s3cret",
		Templates: []mockapi.Template{{TemplateID: "t1", Title: "发货通知", Keywords: []string{"thing1"}}},
		Grants:    []mockapi.Grant{{OpenID: "o_user", TemplateID: "t1", LongTerm: true}}}}}
	mock, err := mockcontainer.Run(ctx, mockcontainer.WithSeed(seed), mockcontainer.WithNetwork(nw, "mock"),
		mockcontainer.WithLabels(labels))
	testcontainers.CleanupContainer(t, mock)
	if err != nil {
		t.Fatal(err)
	}
	config := `
api_keys: [{name: test, key: ` + apiKey + `}]
apps:
  - {name: shop, platform: wechat, app_id: wxcontainer000002, secret: s3cret, base_url: "http://mock:9100"}
`
	snd, err := sendercontainer.Run(ctx, sendercontainer.WithConfig(config), sendercontainer.WithNetwork(nw, "sender"),
		sendercontainer.WithLabels(labels))
	testcontainers.CleanupContainer(t, snd)
	if err != nil {
		t.Fatal(err)
	}

	body := `{"app":"shop","to":"o_user","template_id":"t1","data":{"thing1":"container"}}`
	status, b := call(t, http.MethodPost, snd.URL+"/v1/messages", body)
	var acc struct{ ID string }
	if err := json.Unmarshal(b, &acc); status != http.StatusAccepted || err != nil || acc.ID == "" {
		t.Fatalf("POST /v1/messages: %d %s", status, b)
	}
	msgs, err := mock.Control.Messages(ctx, mockclient.MessageFilter{OpenID: "o_user", Wait: 30 * time.Second})
	if err != nil || len(msgs.Messages) != 1 || msgs.Messages[0].Data["thing1"] != "container" {
		t.Fatalf("inbox %+v %v, want the message", msgs, err)
	}

	before := snd.URL
	timeout := 30 * time.Second
	if err := snd.Stop(ctx, &timeout); err != nil {
		t.Fatal(err)
	}
	if err := snd.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("sender at %s, then %s", before, snd.URL)
	status, b = call(t, http.MethodGet, snd.URL+"/v1/messages/"+acc.ID, "")
	if status != http.StatusOK || !strings.Contains(string(b), `"status":"delivered"`) {
		t.Fatalf("after restart: %d %s, want the delivered message", status, b)
	}
}

func call(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}
