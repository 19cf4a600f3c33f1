package events_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/internal/openapitest"
	"github.com/minipush/minipush/sender/internal/events"
	"github.com/minipush/minipush/sender/internal/openapi"
)

// The receiver's routes and the sender's document agree both ways (the
// rest of the API is held to it in sender/internal/api).
func TestRoutesMatchTheDocument(t *testing.T) {
	t.Parallel()
	rc, err := events.NewReceiver(nil, nil, discard())
	if err != nil {
		t.Fatal(err)
	}
	router, ok := rc.Handler().(*mux.Router)
	if !ok {
		t.Fatalf("Handler() is a %T, want the *mux.Router to walk", rc.Handler())
	}
	c := openapitest.Must(t, openapi.Document().YAML(), openapitest.Scope(func(p string) bool {
		return strings.HasPrefix(p, "/v1/platform-events/")
	}))
	c.CheckRoutes(router, http.Header{})
}
