// Package openapi holds the sender API's OpenAPI 3.1 document
// (sender.yaml), served at GET /openapi.json. The document is the
// contract: the API's tests hold the router to it both ways (every route
// documented, every documented route served) and validate every request
// and answer they make against it (internal/openapitest), so a route or
// shape change that does not update sender.yaml fails the tests.
package openapi

import (
	_ "embed"
	"sync"

	"github.com/minipush/minipush/internal/openapidoc"
)

//go:embed sender.yaml
var spec []byte

// Document is the sender API's document. It is converted on first use and
// never changes afterwards.
var Document = sync.OnceValue(func() *openapidoc.Doc { return openapidoc.Must(spec) })
