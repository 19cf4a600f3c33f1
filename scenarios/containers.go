package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/minipush/minipush/mockserver/mockcontainer"
	"github.com/minipush/minipush/sender/sendercontainer"
)

// The network aliases: the sender reaches the mock as http://mock:9100.
const (
	mockAlias   = "mock"
	senderAlias = "sender"
)

// LabelSuite marks every container and network the suite starts, so a
// safety net can remove leftovers of an interrupted run:
//
//	docker rm -f $(docker ps -aq --filter label=org.minipush.suite=bdd)
//	docker network rm $(docker network ls -q --filter label=org.minipush.suite=bdd)
const LabelSuite = "org.minipush.suite"

// containers runs a world as two containers — the FROM scratch images of
// the mock and the sender, built once per test binary — on a private
// network of their own.
type containers struct {
	tb      testing.TB
	labels  map[string]string
	logsDir string // container logs are saved here when the world closes
	name    string // the world's name in log file names

	net  *testcontainers.DockerNetwork
	mock *mockcontainer.Container
}

func newContainers(tb testing.TB, labels map[string]string, logsDir, name string) *containers {
	return &containers{tb: tb, labels: labels, logsDir: logsDir, name: name}
}

func (b *containers) mode() string { return modeContainers }

func (b *containers) startMock(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	nw, err := network.New(ctx, network.WithLabels(b.labels))
	testcontainers.CleanupNetwork(b.tb, nw)
	if err != nil {
		return "", fmt.Errorf("create the network: %w", err)
	}
	b.net = nw
	m, err := mockcontainer.Run(ctx, mockcontainer.WithImage(mockcontainer.DefaultImage),
		mockcontainer.WithNetwork(nw, mockAlias), mockcontainer.WithLabels(b.labels))
	if err != nil {
		return "", err
	}
	testcontainers.CleanupContainer(b.tb, m)
	b.mock = m
	return m.URL, nil
}

func (b *containers) mockURLForSender() string { return "http://" + mockAlias + ":9100" }

// senderURLForMock: the mock's container pushes to the sender's container
// on the private network, by its alias.
func (b *containers) senderURLForMock(senderProcess) string {
	return "http://" + senderAlias + ":" + strings.TrimSuffix(sendercontainer.Port, "/tcp")
}

// webhookHost: the sender's container reaches the test process at its
// private network's gateway — the Docker host's address on that bridge —
// when the daemon runs on this machine (the address is then one of its
// own: a receiver can listen there). A remote daemon's gateway is not:
// the webhook scenarios then fail, saying the world has no receiver.
func (b *containers) webhookHost() (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		b.tb.Logf("webhook receiver: docker client: %v", err)
		return "", false
	}
	defer cli.Close()
	nw, err := cli.NetworkInspect(ctx, b.net.ID, client.NetworkInspectOptions{})
	if err != nil {
		b.tb.Logf("webhook receiver: inspect the network: %v", err)
		return "", false
	}
	for _, c := range nw.Network.IPAM.Config {
		if !c.Gateway.IsValid() || !c.Gateway.Is4() {
			continue
		}
		host := c.Gateway.String()
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			b.tb.Logf("webhook receiver: the network's gateway %s is not this machine's (%v)", host, err)
			return "", false
		}
		_ = ln.Close()
		return host, true
	}
	b.tb.Logf("webhook receiver: the network %s has no IPv4 gateway", b.net.Name)
	return "", false
}

func (b *containers) senderDatabase() string { return sendercontainer.DatabasePath }

func (b *containers) startSender(ctx context.Context, config []byte) (senderProcess, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	c, err := sendercontainer.Run(ctx, sendercontainer.WithImage(sendercontainer.DefaultImage),
		sendercontainer.WithConfig(string(config)), sendercontainer.WithNetwork(b.net, senderAlias),
		sendercontainer.WithLabels(b.labels))
	if err != nil {
		return nil, err
	}
	testcontainers.CleanupContainer(b.tb, c)
	return &containerSender{c: c, b: b}, nil
}

func (b *containers) close(ctx context.Context) error {
	var errs []error
	if b.mock != nil {
		b.saveLogs(ctx, b.mock, "mock")
		errs = append(errs, testcontainers.TerminateContainer(b.mock))
	}
	if b.net != nil {
		errs = append(errs, b.net.Remove(context.WithoutCancel(ctx)))
	}
	return errors.Join(errs...)
}

// saveLogs keeps a container's output for whoever reads a failed run.
func (b *containers) saveLogs(ctx context.Context, c testcontainers.Container, what string) {
	if b.logsDir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	r, err := c.Logs(ctx)
	if err != nil {
		return
	}
	defer r.Close()
	f, err := os.Create(filepath.Join(b.logsDir, fmt.Sprintf("%s-%s.log", b.name, what)))
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, r)
}

// containerSender is the sender's container.
type containerSender struct {
	b  *containers
	mu sync.Mutex
	c  *sendercontainer.Container
}

func (s *containerSender) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c.URL
}

// Restart stops the container gracefully (SIGTERM; the sender finishes
// in-flight sends) and starts it again: the database is in the
// container's writable layer, which survives. The mapped port changes.
func (s *containerSender) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	timeout := 30 * time.Second
	if err := s.c.Stop(ctx, &timeout); err != nil {
		return fmt.Errorf("stop the sender container: %w", err)
	}
	return s.c.Start(ctx)
}

func (s *containerSender) RestartContainer(ctx context.Context) error { return s.Restart(ctx) }

func (s *containerSender) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.saveLogs(ctx, s.c, "sender")
	return testcontainers.TerminateContainer(s.c)
}

// suiteLabels are the labels of a run's containers and networks.
func suiteLabels(run string) map[string]string {
	l := map[string]string{mockcontainer.LabelManaged: "true", LabelSuite: "bdd", "org.minipush.run": run}
	return maps.Clone(l)
}
