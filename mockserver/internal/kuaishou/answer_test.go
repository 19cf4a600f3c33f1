package kuaishou

import (
	"net/http"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// The success answer made once is what writeJSON writes.
func TestOKAnswerIsWriteJSONs(t *testing.T) {
	if err := platform.SameAnswer(func(w http.ResponseWriter) { writeJSON(w, sendAnswer{Result: ResultOK}) },
		func(w http.ResponseWriter) { platform.WriteAnswer(w, contentType, okSendAnswer) }); err != nil {
		t.Fatal(err)
	}
}
