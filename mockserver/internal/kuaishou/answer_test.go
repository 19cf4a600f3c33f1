package kuaishou

import (
	"reflect"
	"testing"

	"net/http/httptest"
)

// The success answer made once is what writeJSON writes: status, headers
// and bytes.
func TestOKAnswerIsWriteJSONs(t *testing.T) {
	a, b := httptest.NewRecorder(), httptest.NewRecorder()
	writeJSON(a, sendAnswer{Result: ResultOK})
	writeAnswer(b, okSendAnswer)
	if a.Code != b.Code || !reflect.DeepEqual(a.Header(), b.Header()) || a.Body.String() != b.Body.String() {
		t.Fatalf("made once: %d %v %q; writeJSON: %d %v %q", b.Code, b.Header(), b.Body, a.Code, a.Header(), a.Body)
	}
}
