package douyin

import (
	"net/http"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// The success answer made once is what writeJSON writes.
func TestOKAnswerIsWriteJSONs(t *testing.T) {
	if err := platform.SameAnswer(func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, v1Answer{ErrNo: CodeOK}) },
		func(w http.ResponseWriter) { writeAnswer(w, http.StatusOK, okV1Answer) }); err != nil {
		t.Fatal(err)
	}
}
