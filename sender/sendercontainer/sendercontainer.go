// Package sendercontainer runs the sender in a container with
// testcontainers-go: the real binary, its configuration file, a SQLite
// database in the container's writable layer (kept across Stop and Start),
// on a private network next to the mock.
//
// The image is built from this module's source the first time a process
// needs it (a static binary in a FROM scratch image; nothing is pulled).
// Set TESTCONTAINERS_RYUK_DISABLED=true where the reaper image cannot be
// pulled, and clean up with testcontainers.CleanupContainer.
package sendercontainer

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/minipush/minipush/internal/scratchimage"
	"github.com/minipush/minipush/mockserver/mockcontainer"
)

// DefaultImage is the image Run builds and starts (a fixed tag: a build
// replaces the previous one).
const DefaultImage = "minipush/sender:dev"

// Port is the sender's API port inside the container.
const Port = "9200/tcp"

// Paths inside the container. The database directory is created by the
// sender; it lives in the writable layer, which Stop and Start keep.
const (
	ConfigPath   = "/etc/minipush/sender.yaml"
	DatabasePath = "/data/minipush.db"
)

// DefaultStartupTimeout bounds the wait for /readyz.
const DefaultStartupTimeout = 60 * time.Second

var builds = struct {
	sync.Mutex
	done map[string]bool
}{done: map[string]bool{}}

// BuildImage compiles the sender (CGO_ENABLED=0: the SQLite driver is pure
// Go) and builds ref FROM scratch, once per process.
func BuildImage(ctx context.Context, ref string) error {
	builds.Lock()
	defer builds.Unlock()
	if builds.done[ref] {
		return nil
	}
	err := scratchimage.Build(ctx, scratchimage.Spec{
		Ref: ref, Package: "./sender/cmd/sender", Binary: "sender", Port: Port,
		Args:   []string{"-config", ConfigPath},
		Labels: map[string]string{mockcontainer.LabelManaged: "true", mockcontainer.LabelComponent: "sender"},
	})
	if err != nil {
		return err
	}
	builds.done[ref] = true
	return nil
}

// Container is a running sender.
type Container struct {
	testcontainers.Container
	// URL is the API's base URL from the host (the mapped port). It
	// changes after a restart: Start calls Refresh.
	URL string
}

type options struct {
	image   string
	build   bool
	config  string
	env     map[string]string
	network *testcontainers.DockerNetwork
	aliases []string
	labels  map[string]string
	timeout time.Duration
}

// Option configures Run.
type Option func(*options)

// WithImage starts ref as it is, without building it.
func WithImage(ref string) Option { return func(o *options) { o.image, o.build = ref, false } }

// WithConfig is the sender's YAML configuration. listen and storage.path
// are overridden (MINIPUSH_LISTEN, MINIPUSH_STORAGE_PATH) so the API
// listens on every interface and the database sits at DatabasePath.
func WithConfig(yaml string) Option { return func(o *options) { o.config = yaml } }

// WithEnv sets environment variables (MINIPUSH_* override the file).
func WithEnv(env map[string]string) Option { return func(o *options) { maps.Copy(o.env, env) } }

// WithNetwork attaches the container to nw under aliases.
func WithNetwork(nw *testcontainers.DockerNetwork, aliases ...string) Option {
	return func(o *options) { o.network, o.aliases = nw, aliases }
}

// WithLabels adds container labels.
func WithLabels(l map[string]string) Option { return func(o *options) { maps.Copy(o.labels, l) } }

// WithStartupTimeout bounds the wait for readiness.
func WithStartupTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// Run builds the image if needed, starts a sender with the configuration
// and waits until GET /readyz answers from the host (storage open,
// dispatcher running). On error the container, if any, is terminated.
func Run(ctx context.Context, opts ...Option) (*Container, error) {
	o := options{image: DefaultImage, build: true, env: map[string]string{}, labels: map[string]string{},
		timeout: DefaultStartupTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if strings.TrimSpace(o.config) == "" {
		return nil, fmt.Errorf("sender container: a configuration is required (WithConfig)")
	}
	if o.build {
		if err := BuildImage(ctx, o.image); err != nil {
			return nil, err
		}
	}
	env := map[string]string{"MINIPUSH_LISTEN": "0.0.0.0:9200", "MINIPUSH_STORAGE_PATH": DatabasePath}
	maps.Copy(env, o.env)
	labels := map[string]string{mockcontainer.LabelManaged: "true", mockcontainer.LabelComponent: "sender"}
	maps.Copy(labels, o.labels)
	req := testcontainers.ContainerRequest{
		Image:        o.image,
		ExposedPorts: []string{Port},
		Env:          env,
		Labels:       labels,
		Files: []testcontainers.ContainerFile{{Reader: strings.NewReader(o.config), ContainerFilePath: ConfigPath,
			FileMode: 0o600}},
		WaitingFor: wait.ForHTTP("/readyz").WithPort(Port).WithStartupTimeout(o.timeout),
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
		return nil, fmt.Errorf("start sender container: %w", err)
	}
	c := &Container{Container: ctr}
	if err := c.Refresh(ctx); err != nil {
		_ = testcontainers.TerminateContainer(ctr)
		return nil, err
	}
	return c, nil
}

// Start starts a stopped container again (its writable layer, and so the
// database, intact), waits for readiness and reads the new mapped port.
func (c *Container) Start(ctx context.Context) error {
	if err := c.Container.Start(ctx); err != nil {
		return err
	}
	return c.Refresh(ctx)
}

// Refresh reads the mapped port again and updates URL.
func (c *Container) Refresh(ctx context.Context) error {
	u, err := c.PortEndpoint(ctx, Port, "http")
	if err != nil {
		return fmt.Errorf("sender container endpoint: %w", err)
	}
	c.URL = u
	return nil
}
