// Package openapi holds the OpenAPI 3.1 document of the mock's control API
// (control.yaml): the /_mock/… routes, the probes and /openapi.json, which
// serves it. The platforms' own paths are the platforms' and are not in it.
// The mock's tests hold its router to the document both ways and validate
// every control call they make against it (internal/openapitest), so a
// control route or shape change that does not update control.yaml fails
// the tests.
package openapi

import (
	_ "embed"
	"strings"
	"sync"

	"github.com/minipush/minipush/internal/openapidoc"
)

//go:embed control.yaml
var spec []byte

// Document is the control API's document. It is converted on first use
// and never changes afterwards.
var Document = sync.OnceValue(func() *openapidoc.Doc { return openapidoc.Must(spec) })

// InScope says whether the document covers path: the control API, the
// probes and the document itself, not the platforms' paths.
func InScope(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/openapi.json", "/_mock":
		return true
	}
	return strings.HasPrefix(path, "/_mock/")
}
