package scripts_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/mockclient"
	"github.com/minipush/minipush/mockserver/seed"
	"github.com/minipush/minipush/sender/senderclient"
)

// composeCommand is how compose is run here: the docker compose plugin,
// or the standalone docker-compose.
func composeCommand() ([]string, error) {
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}, nil
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}, nil
	}
	return nil, fmt.Errorf("neither docker compose nor docker-compose is installed")
}

// containerGate skips unless container tests are asked for
// (MINIPUSH_CONTAINER_TESTS=1: make bdd-containers) and Docker answers;
// with MINIPUSH_REQUIRE_DOCKER=1 a missing Docker fails instead.
func containerGate(t *testing.T) {
	t.Helper()
	if os.Getenv("MINIPUSH_CONTAINER_TESTS") != "1" {
		t.Skip("container tests are off: set MINIPUSH_CONTAINER_TESTS=1 (make bdd-containers does)")
	}
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		if os.Getenv("MINIPUSH_REQUIRE_DOCKER") == "1" {
			t.Fatalf("Docker is required (MINIPUSH_REQUIRE_DOCKER=1): %v\n%s", err, out)
		}
		t.Skipf("Docker is not usable, skipping (MINIPUSH_REQUIRE_DOCKER=1 fails instead): %v", err)
	}
}

// make images builds both images, and compose.yaml runs them on the demo:
// a message sent to the sender from the host lands in the mock's inbox.
func TestImagesAndCompose(t *testing.T) {
	containerGate(t)
	compose, err := composeCommand()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const version = "compose-test"
	run := runner(t, ctx)
	out := run([]string{"VERSION=" + version}, "bash", "scripts/build-images.sh")
	for _, img := range []string{"minipush/mockserver", "minipush/sender"} {
		if !strings.Contains(out, "built "+img+":"+version+" and "+img+":latest") {
			t.Fatalf("build-images.sh did not build %s:\n%s", img, out)
		}
		// FROM scratch: the image holds one file, no shell.
		hist := run(nil, "docker", "image", "inspect", "--format", "{{len .RootFS.Layers}} {{.Config.Entrypoint}}", img+":"+version)
		if !strings.HasPrefix(hist, "1 ") {
			t.Errorf("%s has layers and entrypoint %q, want one layer (FROM scratch, one COPY)", img, hist)
		}
	}

	mockAddr, senderAddr := freeAddr(t), freeAddr(t)
	project := fmt.Sprintf("minipush-compose-test-%d", os.Getpid())
	env := []string{"MINIPUSH_VERSION=" + version, "MOCK_PORT=" + port(mockAddr), "SENDER_PORT=" + port(senderAddr)}
	args := append(compose[1:], "-p", project, "-f", "compose.yaml")
	t.Cleanup(func() {
		cmd := exec.Command(compose[0], append(args, "down", "-v", "--remove-orphans")...)
		cmd.Dir, cmd.Env = "..", append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	run(env, compose[0], append(args, "up", "-d")...)

	c, err := senderclient.New("http://"+senderAddr, senderclient.WithAPIKey("demo-key"))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if rd, err := c.Ready(ctx); err == nil && rd.Ready {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the sender never became ready:\n%s", run(env, compose[0], append(args, "logs")...))
		case <-time.After(200 * time.Millisecond):
		}
	}
	a, err := c.Send(ctx, senderclient.MessageRequest{App: "shop-wechat", To: seed.DemoUserAlice, TemplateID: seed.DemoTemplateOrder,
		Data: map[string]string{"thing1": "Compose test", "character_string2": "SF1234567890", "date3": "2026-11-25", "phrase4": "已发货"}})
	if err != nil {
		t.Fatal(err)
	}
	mock := mockclient.New("http://" + mockAddr)
	inbox, err := mock.Messages(ctx, mockclient.MessageFilter{OpenID: seed.DemoUserAlice, Wait: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(inbox.Messages) != 1 || inbox.Messages[0].Data["thing1"] != "Compose test" {
		t.Fatalf("the mock's inbox: %+v; want the message sent to the sender (%s)", inbox.Messages, a.ID)
	}
	if m := waitFinal(t, ctx, c, a.ID); m.Status != senderclient.StatusDelivered {
		t.Fatalf("message %s: %s, want delivered", a.ID, m.Status)
	}
}

// runner runs commands in the repository's root with env added; a
// failure ends the test with the command's output.
func runner(t *testing.T, ctx context.Context) func(env []string, name string, args ...string) string {
	return func(env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}

func port(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

// make image-redis builds a FROM scratch Redis from the host's Debian
// redis-server, and compose.redis.yaml runs two senders on it: a message
// sent to the first is delivered and read on the second (one queue).
func TestComposeRedis(t *testing.T) {
	containerGate(t)
	compose, err := composeCommand()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const version = "compose-redis-test"
	run := runner(t, ctx)
	run([]string{"VERSION=" + version}, "bash", "scripts/build-images.sh")
	if out := run(nil, "bash", "scripts/build-redis-image.sh"); !strings.Contains(out, "built minipush/redis:") {
		t.Fatalf("build-redis-image.sh: %s", out)
	}
	if hist := run(nil, "docker", "image", "inspect", "--format", "{{len .RootFS.Layers}}", "minipush/redis:latest"); !strings.HasPrefix(hist, "1") {
		t.Errorf("minipush/redis has %s layers, want one (FROM scratch, one COPY)", hist)
	}
	mockAddr, s1, s2 := freeAddr(t), freeAddr(t), freeAddr(t)
	project := fmt.Sprintf("minipush-compose-redis-test-%d", os.Getpid())
	env := []string{"MINIPUSH_VERSION=" + version, "MOCK_PORT=" + port(mockAddr), "SENDER1_PORT=" + port(s1), "SENDER2_PORT=" + port(s2)}
	args := append(compose[1:], "-p", project, "-f", "compose.redis.yaml")
	t.Cleanup(func() {
		cmd := exec.Command(compose[0], append(args, "down", "-v", "--remove-orphans")...)
		cmd.Dir, cmd.Env = "..", append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	run(env, compose[0], append(args, "up", "-d")...)
	clients := make([]*senderclient.Client, 2)
	for i, addr := range []string{s1, s2} {
		c, err := senderclient.New("http://"+addr, senderclient.WithAPIKey("demo-key"))
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
		for {
			if rd, err := c.Ready(ctx); err == nil && rd.Ready {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("sender %d never became ready:\n%s", i+1, run(env, compose[0], append(args, "logs")...))
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	a, err := clients[0].Send(ctx, senderclient.MessageRequest{App: "shop-wechat", To: seed.DemoUserAlice, TemplateID: seed.DemoTemplateOrder,
		Data: map[string]string{"thing1": "Compose redis", "character_string2": "SF1234567890", "date3": "2026-11-25", "phrase4": "已发货"}})
	if err != nil {
		t.Fatal(err)
	}
	if m := waitFinal(t, ctx, clients[1], a.ID); m.Status != senderclient.StatusDelivered {
		t.Fatalf("message %s read on the second sender: %s, want delivered", a.ID, m.Status)
	}
	inbox, err := mockclient.New("http://"+mockAddr).Messages(ctx, mockclient.MessageFilter{OpenID: seed.DemoUserAlice, Wait: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(inbox.Messages) != 1 || inbox.Messages[0].Data["thing1"] != "Compose redis" {
		t.Fatalf("the mock's inbox: %+v; want the one message", inbox.Messages)
	}
}
