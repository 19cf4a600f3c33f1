package douyin_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// get calls a GET API with a raw (fuzzed) query string.
func (s *fuzzServer) get(t testing.TB, path, rawQuery string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.URL.Path, req.URL.RawQuery = path, rawQuery
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// FuzzTemplateManagement feeds the v2 subscription APIs: JSON bodies to the
// POST ones, query strings to the GET ones. Every answer is the open.douyin
// envelope, HTTP 200.
func FuzzTemplateManagement(f *testing.F) {
	s := newFuzzServer(f)
	posts := []string{"create_tpl", "add_app_tpl", "delete_app_tpl", "query_user_subscribe"}
	gets := []string{"query_tpl_list", "query_created_tpl_list", "query_app_tpl"}
	for _, seed := range []string{
		`{"category_ids":"79,117","classification":1,"title":"退款通知","host_list":["douyin"],"keyword_list":["退款金额"]}`,
		`{"category_ids":"79,,","classification":2,"title":"\u0000\ud800","host_list":[null],"keyword_list":[""]}`,
		`{"template_id":12259,"keyword_list":["物品名称","快递单号"]}`,
		`{"template_id":1e30,"keyword_list":"x"}`, `{"template_id":-1}`,
		`{"msg_id":"` + tmplA + `","open_id":"` + userA + `"}`,
		`{"msg_id":["x"],"open_id":{}}`,
		`classification=1&template_type=1&page_num=1&page_size=50&category_ids=79,117&keyword=发货`,
		`classification=2&page_num=99999999999999999999&page_size=-1&status=1`,
		`page_num=1&page_size=10&status=0&category_ids=%ff`,
		`[]`, `null`, ``, `{`,
	} {
		for i := range posts {
			f.Add(seed, uint8(i))
		}
		for i := range gets {
			f.Add(seed, uint8(len(posts)+i))
		}
	}
	f.Fuzz(func(t *testing.T, input string, which uint8) {
		n := int(which) % (len(posts) + len(gets))
		var rec *httptest.ResponseRecorder
		if n < len(posts) {
			rec = s.call(t, subPath+posts[n]+"/", input, "access-token", s.client)
		} else {
			rec = s.get(t, subPath+gets[n-len(posts)]+"/", input, "access-token", s.client)
		}
		wellFormed(t, rec, []int{http.StatusOK}, []string{"err_no", "err_msg", "log_id"})
	})
}

// FuzzImageCensor feeds the three image APIs.
func FuzzImageCensor(f *testing.F) {
	s := newFuzzServer(f)
	for _, seed := range []string{
		`{"targets":["porn","ad"],"tasks":[{"image":"https://img.example/a.png"},{"image_data":"iVBORw0KGgo="}]}`,
		`{"targets":[1],"tasks":[{"image":null,"image_data":5}]}`,
		`{"app_id":"` + appA + `","access_token":"{{TOKEN}}","image_data":"iVBORw0KGgo="}`,
		`{"app_id":"` + appA + `","access_token":"{{TOKEN}}","image":"http://[::1"}`,
		`{"app_id":"` + appA + `","image":"https://img.example/a.png"}`,
		`{"app_id":"` + appA + `","image_data":"===="}`,
		`[]`, `null`, ``, `{`,
	} {
		for i := range 3 {
			f.Add(seed, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		switch which % 3 {
		case 0:
			rec := s.call(t, "/api/v2/tags/image/", body, "X-Token", s.access)
			wellFormed(t, rec, []int{http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized},
				[]string{"log_id", "data"}, []string{"error_id", "code", "message", "exception"})
		case 1:
			rec := s.call(t, "/api/apps/censor/image", body)
			wellFormed(t, rec, []int{http.StatusOK}, []string{"error", "message"})
		default:
			rec := s.call(t, "/api/apps/v1/censor/image/", body, "access-token", s.client)
			wellFormed(t, rec, []int{http.StatusOK}, []string{"err_no", "err_msg", "log_id"})
			if strings.Contains(rec.Body.String(), `"err_no":0`) && !strings.Contains(rec.Body.String(), `"predicts"`) {
				t.Fatalf("success without predicts: %s", rec.Body)
			}
		}
	})
}
