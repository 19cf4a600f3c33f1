// Package mockcontainer runs the mock in a container with
// testcontainers-go, for tests that need it out of process: next to other
// containers on a private network, stopped and restarted, or reached the
// way a deployed service would reach it.
//
// The image is built from this module's source (a static binary in a FROM
// scratch image) the first time a process needs it, so no registry is
// involved. Set TESTCONTAINERS_RYUK_DISABLED=true where the reaper image
// cannot be pulled, and clean up with testcontainers.CleanupContainer.
package mockcontainer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/minipush/minipush/mockserver/mockapi"
	"github.com/minipush/minipush/mockserver/mockclient"
)

// Port is the mock's port inside the container.
const Port = "9100/tcp"

// DefaultStartupTimeout bounds the wait for /readyz.
const DefaultStartupTimeout = 60 * time.Second

// seedPath is where WithSeed puts the seed inside the container.
const seedPath = "/etc/minipush/seed.json"

// Container is a running mock.
type Container struct {
	testcontainers.Container
	// URL is the mock's base URL from the host running the test (the
	// mapped port). It changes when the container restarts: call Refresh.
	URL string
	// Control is a control-API client for URL.
	Control *mockclient.Client
}

type options struct {
	image    string
	build    bool
	seed     *mockapi.Seed
	demo     bool
	network  *testcontainers.DockerNetwork
	aliases  []string
	labels   map[string]string
	logLevel string
	timeout  time.Duration
	name     string
}

// Option configures Run.
type Option func(*options)

// WithImage starts ref as it is, without building it.
func WithImage(ref string) Option { return func(o *options) { o.image, o.build = ref, false } }

// WithSeed starts the mock with s (copied into the container as JSON).
func WithSeed(s mockapi.Seed) Option { return func(o *options) { o.seed = &s } }

// WithDemo starts the mock with the built-in demo seed.
func WithDemo() Option { return func(o *options) { o.demo = true } }

// WithNetwork attaches the container to nw, where other containers reach
// it by aliases (e.g. "mock" → http://mock:9100).
func WithNetwork(nw *testcontainers.DockerNetwork, aliases ...string) Option {
	return func(o *options) { o.network, o.aliases = nw, aliases }
}

// WithLabels adds container labels (for a clean-up safety net).
func WithLabels(l map[string]string) Option {
	return func(o *options) { maps.Copy(o.labels, l) }
}

// WithLogLevel sets -log-level (debug logs every call).
func WithLogLevel(level string) Option { return func(o *options) { o.logLevel = level } }

// WithStartupTimeout bounds the wait for readiness.
func WithStartupTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithName names the container.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// Run builds the image if this process has not yet, starts a mock and waits
// until GET /readyz answers from the host. On error the container, if one
// was created, is terminated.
func Run(ctx context.Context, opts ...Option) (*Container, error) {
	o := options{image: DefaultImage, build: true, labels: map[string]string{}, timeout: DefaultStartupTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.build {
		if err := BuildImage(ctx, o.image); err != nil {
			return nil, err
		}
	}
	labels := map[string]string{LabelManaged: "true", LabelComponent: "mockserver"}
	maps.Copy(labels, o.labels)
	req := testcontainers.ContainerRequest{
		Image:        o.image,
		ExposedPorts: []string{Port},
		Labels:       labels,
		Name:         o.name,
		WaitingFor:   wait.ForHTTP("/readyz").WithPort(Port).WithStartupTimeout(o.timeout),
	}
	if o.logLevel != "" {
		req.Cmd = append(req.Cmd, "-log-level", o.logLevel)
	}
	switch {
	case o.seed != nil:
		b, err := json.Marshal(o.seed)
		if err != nil {
			return nil, fmt.Errorf("encode seed: %w", err)
		}
		req.Files = append(req.Files, testcontainers.ContainerFile{Reader: bytes.NewReader(b),
			ContainerFilePath: seedPath, FileMode: 0o644})
		req.Cmd = append(req.Cmd, "-seed", seedPath)
	case o.demo:
		req.Cmd = append(req.Cmd, "-demo")
	}
	greq := testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true}
	if o.network != nil {
		if err := network.WithNetwork(o.aliases, o.network).Customize(&greq); err != nil {
			return nil, err
		}
	}
	ctr, err := testcontainers.GenericContainer(ctx, greq)
	if err != nil {
		_ = testcontainers.TerminateContainer(ctr)
		return nil, fmt.Errorf("start mock container: %w", err)
	}
	c := &Container{Container: ctr}
	if err := c.Refresh(ctx); err != nil {
		_ = testcontainers.TerminateContainer(ctr)
		return nil, err
	}
	return c, nil
}

// Start starts a stopped container again (its state is the seed's again:
// the mock keeps everything in memory), waits for readiness and reads the
// new mapped port.
func (c *Container) Start(ctx context.Context) error {
	if err := c.Container.Start(ctx); err != nil {
		return err
	}
	return c.Refresh(ctx)
}

// Refresh reads the mapped port again (Docker maps a new one after a
// restart) and updates URL and Control.
func (c *Container) Refresh(ctx context.Context) error {
	u, err := c.PortEndpoint(ctx, Port, "http")
	if err != nil {
		return fmt.Errorf("mock container endpoint: %w", err)
	}
	c.URL = u
	c.Control = mockclient.New(u)
	return nil
}
