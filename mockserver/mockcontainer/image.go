package mockcontainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// DefaultImage is the image Run builds and starts. The tag is fixed so a
// build replaces the previous one instead of piling up images.
const DefaultImage = "minipush/mockserver:dev"

// Labels every container, network and image this package creates carries,
// so a safety net can remove leftovers: docker rm -f $(docker ps -aq
// --filter label=org.minipush.managed=true).
const (
	LabelManaged   = "org.minipush.managed"
	LabelComponent = "org.minipush.component"
)

// builds remembers the images built by this process: building takes a Go
// compile and a docker build, and the image is a daemon-wide resource, so
// one build per process (per test binary) is enough. A failed build is not
// remembered: the next Run tries again.
var builds = struct {
	sync.Mutex
	done map[string]bool
}{done: map[string]bool{}}

// BuildImage compiles the mock from the module's source into a static
// binary (CGO_ENABLED=0) and builds ref from it: FROM scratch, one COPY,
// exec-form ENTRYPOINT, no RUN — nothing is pulled, so it works with no
// registry. The image is built once per process; later calls return at
// once.
func BuildImage(ctx context.Context, ref string) error {
	builds.Lock()
	defer builds.Unlock()
	if builds.done[ref] {
		return nil
	}
	err := BuildScratchImage(ctx, ScratchImage{
		Ref: ref, Package: "./mockserver/cmd/mockserver", Binary: "mockserver", Port: Port,
		Args:   []string{"-addr", "0.0.0.0:9100"},
		Labels: map[string]string{LabelManaged: "true", LabelComponent: "mockserver"},
	})
	if err != nil {
		return err
	}
	builds.done[ref] = true
	return nil
}

// ScratchImage describes a FROM scratch image holding one Go command.
type ScratchImage struct {
	Ref     string // repo:tag
	Package string // the command, relative to the module root ("./mockserver/cmd/mockserver")
	Binary  string // file name in the image (/Binary)
	Port    string // exposed, "9100/tcp"
	Args    []string
	Labels  map[string]string
	// ModuleDir is the module root; empty means the module this package
	// was compiled from (found from its source path).
	ModuleDir string
}

// BuildScratchImage builds img: go build on the host, then a docker build
// from a context of only the Dockerfile and the binary. The classic
// builder is asked for explicitly: it treats scratch as "no base image"
// and pulls nothing.
func BuildScratchImage(ctx context.Context, img ScratchImage) error {
	repo, tag, ok := strings.Cut(img.Ref, ":")
	if !ok || repo == "" || tag == "" {
		return fmt.Errorf("image %q: want repo:tag", img.Ref)
	}
	root := img.ModuleDir
	if root == "" {
		var err error
		if root, err = moduleRoot(); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "minipush-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=container",
		"-o", filepath.Join(dir, img.Binary), img.Package)
	cmd.Dir = root
	// The image runs on the daemon's Linux; the test process may be built
	// with the race detector (cgo), the binary must not be.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", img.Package, err, out.String())
	}

	entry := append([]string{"/" + img.Binary}, img.Args...)
	var df strings.Builder
	df.WriteString("FROM scratch\n")
	fmt.Fprintf(&df, "COPY %s /%s\n", img.Binary, img.Binary)
	if img.Port != "" {
		fmt.Fprintf(&df, "EXPOSE %s\n", img.Port)
	}
	fmt.Fprintf(&df, "ENTRYPOINT [%s]\n", quoteAll(entry))
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df.String()), 0o644); err != nil {
		return err
	}

	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return fmt.Errorf("docker: %w", err)
	}
	defer provider.Close()
	labels := map[string]string{}
	for k, v := range img.Labels {
		labels[k] = v
	}
	var log bytes.Buffer
	req := &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context: dir, Dockerfile: "Dockerfile", Repo: repo, Tag: tag, KeepImage: true, BuildLogWriter: &log,
		BuildOptionsModifier: func(o *client.ImageBuildOptions) {
			o.Version = build.BuilderV1
			o.Labels = labels
		},
	}}
	if _, err := provider.BuildImage(ctx, req); err != nil {
		return fmt.Errorf("docker build %s: %w\n%s", img.Ref, err, log.String())
	}
	return nil
}

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = fmt.Sprintf("%q", a)
	}
	return strings.Join(q, ", ")
}

// moduleRoot is the directory holding the go.mod of the module this file
// was compiled from.
func moduleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the module source: no caller information")
	}
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if parent := filepath.Dir(dir); parent == dir {
			return "", fmt.Errorf("no go.mod above %s: build the image elsewhere and pass WithImage", file)
		}
	}
}
