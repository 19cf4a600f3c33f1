package baidu

import (
	"reflect"
	"testing"

	"net/http"
	"net/http/httptest"
)

// The success answer made once is what writeJSON writes: status, headers
// and bytes.
func TestOKAnswerIsWriteJSONs(t *testing.T) {
	a, b := httptest.NewRecorder(), httptest.NewRecorder()
	writeJSON(a, http.StatusOK, businessAnswer{Errno: ErrnoOK, Msg: ErrnoOK.Message(), Data: sendAnswerData{MsgKey: 4330042}})
	writeAnswer(b, http.StatusOK, okSendAnswer.Bytes(4330042))
	if a.Code != b.Code || !reflect.DeepEqual(a.Header(), b.Header()) || a.Body.String() != b.Body.String() {
		t.Fatalf("made once: %d %v %q; writeJSON: %d %v %q", b.Code, b.Header(), b.Body, a.Code, a.Header(), a.Body)
	}
}
