package baidu_test

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzTemplateManagement feeds the template-management APIs their
// parameters in the query and in a form or JSON body, as the three kinds
// of client send them.
func FuzzTemplateManagement(f *testing.F) {
	m := start(f)
	tok := m.token(appA, secretA)
	names := []string{"templateadd", "templatedel", "templatelist", "librarylist", "libraryget"}
	for i := range names {
		f.Add(uint8(i), "id=BD0016&keyword_id_list=[1,2,3]", "", "application/x-www-form-urlencoded")
		f.Add(uint8(i), "", "id=BD0001&keyword_id_list=%5B1%2C1%5D&offset=0&count=20", "application/x-www-form-urlencoded")
		f.Add(uint8(i), "id=BD0016", `{"id":"BD0016","keyword_id_list":[2,1],"offset":1e99,"count":"3"}`, "application/json")
		f.Add(uint8(i), "template_id=%zz", `{"template_id":null}`, "application/json")
		f.Add(uint8(i), "count=-1&offset=99999999999999999999", "[", "application/json")
	}
	f.Fuzz(func(t *testing.T, which uint8, query, body, contentType string) {
		if !headerValue(contentType) {
			t.Skip()
		}
		path := withToken(tmplPath+names[int(which)%len(names)], tok) + "&" + rawQuery(query)
		req, err := http.NewRequest(http.MethodPost, m.URL+path, strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		checkRest(t, resp)
	})
}

// FuzzTemplateSendForm feeds the legacy template/send.
func FuzzTemplateSendForm(f *testing.F) {
	m := start(f)
	tok := m.token(appA, secretA)
	f.Add(templateSendForm(loggedInScene, "1").Encode())
	f.Add(templateSendForm(guestScene, "2").Encode() + "&touser=" + swanID + "&ext=%7B%7D")
	f.Add("scene_type=99999999999999999999&scene_id=&data=%7B%22thing1%22%3A%7B%7D%7D")
	f.Add("ext=%5B&data=null&template_id=" + tmplA)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := http.NewRequest(http.MethodPost, m.URL+withToken(templateSendPath, tok), strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		checkRest(t, resp)
	})
}
