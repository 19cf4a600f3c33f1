package douyin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
)

// post sends body as JSON to base+path with the extra header (the token
// headers) and returns the answer, whatever its status (the antidirt
// gateway answers its errors with their own status and a body to read).
// token is the token the call carries (if any), so it can be scrubbed from
// errors as well as the secret.
func (c *Client) post(ctx context.Context, base, path string, header http.Header, body any, token string) (*call.Answer, *platform.Error) {
	return c.api.PostJSON(ctx, call.Request{URL: base + path, Name: path, Header: header, Token: token, AnyStatus: true}, body)
}

// postOK is post for the APIs that answer every business error with HTTP
// 200: any other status is an HTTP error.
func (c *Client) postOK(ctx context.Context, base, path string, header http.Header, body any, token string) ([]byte, *platform.Error) {
	a, perr := c.api.PostJSON(ctx, call.Request{URL: base + path, Name: path, Header: header, Token: token}, body)
	if perr != nil {
		return nil, perr
	}
	return a.Body, nil
}

func malformed(path, what string) *platform.Error { return call.Malformed(Platform, path, what) }

// secretFields matches credentials written as a query parameter, a header
// or a JSON field in text that came back from the platform or a proxy
// ("access_token=…", "access-token: …", "\"client_secret\":\"…\""); each
// is scrubbed to its name and REDACTED.
var secretFields = regexp.MustCompile(`(?i)(access[_-]token|client[_-]secret|secret|x-token)("?\s*[:=]\s*"?)[^&\s"',;}]*`)

const secretFieldsRedacted = "${1}${2}REDACTED"

// errNo reads an err_no / error_code: a JSON integer. ok is false when it
// is absent or anything else (a float, a string, out of int64 range).
func errNo(raw json.RawMessage) (Code, bool) {
	n, ok := integer(raw)
	return Code(n), ok
}

// integer reads a JSON integer (not a float, not a string).
func integer(raw json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	return n, err == nil
}

// text reads a JSON string, or the literal of a number or boolean; "" for
// anything else.
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	t := strings.TrimSpace(string(raw))
	if t == "true" || t == "false" {
		return t
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return t
	}
	return ""
}

// decode unmarshals an answer. The error says where the answer went wrong
// but quotes nothing of it (json's type errors quote numbers).
func decode(path string, b []byte, v any) *platform.Error {
	err := json.Unmarshal(b, v)
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return malformed(path, "not JSON (byte "+strconv.FormatInt(se.Offset, 10)+")")
	case errors.As(err, &te) && te.Field != "":
		return malformed(path, te.Field+" has the wrong type")
	case errors.As(err, &te):
		return malformed(path, "not a JSON object")
	}
	return malformed(path, "undecodable JSON")
}
