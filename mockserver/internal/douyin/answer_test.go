package douyin

import (
	"net/http"
	"testing"

	"github.com/minipush/minipush/mockserver/internal/platform"
)

// The success answer made once is what writeJSON writes.
func TestOKAnswerIsWriteJSONs(t *testing.T) {
	if err := platform.SameAnswer(func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, v1Answer{ErrNo: CodeOK}) },
		func(w http.ResponseWriter) { platform.WriteAnswer(w, contentType, okV1Answer) }); err != nil {
		t.Fatal(err)
	}
	for _, logID := range []string{"202405011501000123456789ABCDEF012345", "not a log id \"<&>\""} {
		if err := platform.SameAnswer(func(w http.ResponseWriter) {
			writeJSON(w, http.StatusOK, openAnswer{ErrNo: CodeOK, ErrMsg: "", LogID: logID})
		},
			func(w http.ResponseWriter) { platform.WriteAnswer(w, contentType, okV2Answer.Bytes(logID)) }); err != nil {
			t.Errorf("notify_user, log id %q: %v", logID, err)
		}
	}
}
