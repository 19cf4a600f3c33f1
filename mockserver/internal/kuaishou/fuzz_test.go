package kuaishou_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// checkShape holds an answer to Kuaishou's contract: HTTP 200, a JSON
// object with a numeric result, and for result ≠ 1 an error_msg string.
func checkShape(t *testing.T, resp *http.Response) {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", resp.StatusCode, raw)
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("answer leaks a secret: %s", raw)
		}
	}
	var body struct {
		Result   *json.Number `json:"result"`
		ErrorMsg *string      `json:"error_msg"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Result == nil {
		t.Fatalf("answer is not Kuaishou's shape: %v: %s", err, raw)
	}
	if body.Result.String() != "1" && body.ErrorMsg == nil {
		t.Fatalf("error answer without error_msg: %s", raw)
	}
}

// rawQuery percent-encodes what cannot appear in a request line, so that
// every fuzzed query reaches the handler instead of the HTTP parser.
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

// headerValue reports whether v can be sent as a header value.
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
	f.Add("GET", "grant_type=client_credentials&app_id="+appA+"&app_secret="+secretA, "")
	f.Add("POST", "", "grant_type=client_credentials&app_id="+appA+"&app_secret="+secretA)
	f.Add("POST", "app_id=%zz", "app_secret=%%")
	f.Add("DELETE", "", "\x00\xff")
	f.Fuzz(func(t *testing.T, method, query, body string) {
		switch method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete:
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
		checkShape(t, resp)
	})
}

func FuzzSendForm(f *testing.F) {
	m := start(f)
	tok := m.token(appA, secretA)
	good := sendForm(f, tok, userLong)
	f.Add(good.Encode(), "application/x-www-form-urlencoded")
	f.Add(strings.Replace(good.Encode(), "thing01", "thing1", 1), "application/x-www-form-urlencoded")
	f.Add("app_id="+appA+"&data=%7B%22thing01%22%3A%7B%22value%22%3A1e999%7D%7D", "application/x-www-form-urlencoded")
	f.Add("--b\r\nContent-Disposition: form-data; name=\"app_id\"\r\n\r\n"+appA+"\r\n--b--\r\n", "multipart/form-data; boundary=b")
	f.Add("data=[[[[", "multipart/form-data")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		if !headerValue(contentType) {
			t.Skip()
		}
		// The token rides in the query so the body decoder is reached.
		q := url.Values{"access_token": {tok}}
		req, err := http.NewRequest(http.MethodPost, m.URL+sendPath+"?"+q.Encode(), strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		checkShape(t, resp)
	})
}
