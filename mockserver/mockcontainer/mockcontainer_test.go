package mockcontainer_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/mockcontainer"
)

// requireDocker runs container tests only when asked to
// (MINIPUSH_CONTAINER_TESTS=1 or MINIPUSH_REQUIRE_DOCKER=1): they build
// images, which `make test` should not do on every run. With
// MINIPUSH_REQUIRE_DOCKER=1 a missing daemon fails the test.
func requireDocker(t *testing.T) {
	t.Helper()
	required := os.Getenv("MINIPUSH_REQUIRE_DOCKER") == "1"
	if !required && os.Getenv("MINIPUSH_CONTAINER_TESTS") != "1" {
		t.Skip("container tests are off: set MINIPUSH_CONTAINER_TESTS=1 (make bdd-containers does)")
	}
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	if h := os.Getenv("DOCKER_HOST"); os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" && (h == "" || strings.HasPrefix(h, "unix://")) {
		// The test may itself run in a container: mapped ports are on the
		// loopback, not behind a gateway address.
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

// The container serves the seed it was given, accepts control calls from
// the host, and comes back ready (at a new port) after a stop and start.
func TestRun(t *testing.T) {
	requireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	seed := mockapi.Seed{Apps: []mockapi.App{{Platform: "wechat", AppID: "wxcontainer000001", Secret: "s3cret",
		Users: []string{"o_container_user"}}}}
	mock, err := mockcontainer.Run(ctx, mockcontainer.WithSeed(seed),
		mockcontainer.WithLabels(map[string]string{"org.minipush.test": t.Name()}))
	testcontainers.CleanupContainer(t, mock)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := mock.Control.Apps(ctx)
	if err != nil || len(apps) != 1 || apps[0].AppID != "wxcontainer000001" || apps[0].Users != 1 {
		t.Fatalf("apps %+v %v, want the seeded app with one user", apps, err)
	}
	if err := mock.Control.AddUser(ctx, mockapi.User{Platform: "wechat", AppID: "wxcontainer000001", OpenID: "o_2"}); err != nil {
		t.Fatal(err)
	}
	timeout := 10 * time.Second
	if err := mock.Stop(ctx, &timeout); err != nil {
		t.Fatal(err)
	}
	if err := mock.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := mock.Control.Ready(ctx); err != nil {
		t.Fatalf("after restart at %s: %v", mock.URL, err)
	}
	// The mock keeps its state in memory: a restart is a reset to the seed.
	apps, err = mock.Control.Apps(ctx)
	if err != nil || len(apps) != 1 || apps[0].Users != 1 {
		t.Fatalf("after restart: apps %+v %v, want the seed again", apps, err)
	}
	msgs, err := mock.Control.Messages(ctx, mockclient.MessageFilter{})
	if err != nil || len(msgs.Messages) != 0 {
		t.Fatalf("inbox %+v %v", msgs, err)
	}
}
