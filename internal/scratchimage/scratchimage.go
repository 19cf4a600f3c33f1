// Package scratchimage builds FROM scratch Docker images of the module's
// commands: a static Go binary (CGO_ENABLED=0) built on the host and a
// classic-builder docker build from a context holding only the Dockerfile
// and the binary. Nothing is pulled, so it works with no registry. The
// testcontainers modules of the mock and the sender use it.
package scratchimage

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

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Spec describes a FROM scratch image holding one Go command.
type Spec struct {
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

// Build builds img: go build on the host, then a docker build
// from a context of only the Dockerfile and the binary. The classic
// builder is asked for explicitly: it treats scratch as "no base image"
// and pulls nothing.
func Build(ctx context.Context, img Spec) error {
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
