package mockcontainer

import (
	"context"
	"sync"

	"github.com/minipush/minipush/internal/scratchimage"
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
	err := scratchimage.Build(ctx, scratchimage.Spec{
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
