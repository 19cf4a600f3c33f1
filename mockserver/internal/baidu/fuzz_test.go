package baidu_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// answer is every Baidu field a client looks at.
type answer struct {
	Errno       *json.Number `json:"errno"`
	Msg         *string      `json:"msg"`
	ErrorCode   *json.Number `json:"error_code"`
	ErrorMsg    *string      `json:"error_msg"`
	Error       *string      `json:"error"`
	AccessToken *string      `json:"access_token"`
}

func readAnswer(t *testing.T, resp *http.Response) (int, answer) {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("answer leaks a secret: %s", raw)
		}
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("status %d, answer is not JSON: %v: %s", resp.StatusCode, err, raw)
	}
	return resp.StatusCode, a
}

// checkRest holds a rest API answer to the contract: HTTP 200 and either
// the business shape (errno + msg) or the gateway shape (error_code +
// error_msg).
func checkRest(t *testing.T, resp *http.Response) {
	t.Helper()
	status, a := readAnswer(t, resp)
	if status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	business := a.Errno != nil && a.Msg != nil
	gateway := a.ErrorCode != nil && a.ErrorMsg != nil
	if business == gateway {
		t.Fatalf("answer is neither business nor gateway shaped: %+v", a)
	}
}

// rawQuery percent-encodes what cannot appear in a request line.
func rawQuery(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c <= ' ' || c >= 0x7f || c == '#' {
			b.WriteString(url.QueryEscape(string(c)))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func headerValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func FuzzTokenRequest(f *testing.F) {
	m := start(f)
	good := tokenQuery("client_credentials", appA, secretA, "smartapp_snsapi_base").Encode()
	f.Add("GET", good, "")
	f.Add("POST", "", good)
	f.Add("POST", "client_id=%zz", "scope=%%")
	f.Add("PATCH", "grant_type=client_credential", "\x00")
	f.Fuzz(func(t *testing.T, method, query, body string) {
		switch method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch:
		default:
			method = http.MethodPost
		}
		req, err := http.NewRequest(method, m.URL+tokenPath, strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.URL.RawQuery = rawQuery(query)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		status, a := readAnswer(t, resp)
		switch {
		case status == http.StatusOK && a.AccessToken != nil && *a.AccessToken != "":
		case status == http.StatusBadRequest && a.Error != nil && *a.Error != "":
		default:
			t.Fatalf("status %d, answer %+v: neither a token nor an OAuth error", status, a)
		}
	})
}

func FuzzSubscribeSendForm(f *testing.F) {
	m := start(f)
	tok := m.token(appA, secretA)
	good := sendForm(userLong, "fuzz")
	f.Add(good.Encode(), "application/x-www-form-urlencoded")
	f.Add(strings.Replace(good.Encode(), "number2", "keyword2", 1), "application/x-www-form-urlencoded")
	f.Add("data=%7B%22thing1%22%3A%7B%22value%22%3A1e999%7D%7D&template_id="+tmplA, "application/x-www-form-urlencoded")
	f.Add("--b\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{}\r\n--b--\r\n", "multipart/form-data; boundary=b")
	f.Add("a=%", "multipart/form-data")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		if !headerValue(contentType) {
			t.Skip()
		}
		req, err := http.NewRequest(http.MethodPost, m.URL+withToken(sendPath, tok), strings.NewReader(body))
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

func FuzzCheckTextBody(f *testing.F) {
	m := start(f)
	tok := m.token(appA, secretA)
	f.Add(`{"content":"你好","type":["risk","lead"]}`)
	f.Add(`{"content":"特3456书yuuo莞6543李zxcz蒜7782法fgnv级"}`)
	f.Add(`{"content":null,"type":[null]}`)
	f.Add(`{"type":{}}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := http.NewRequest(http.MethodPost, m.URL+withToken(checkTextPath, tok), strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		checkRest(t, resp)
	})
}
