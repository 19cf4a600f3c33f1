package console

import (
	"bytes"
	"io"
	"net/http"

	"github.com/minipush/minipush/sender/senderclient"
)

// The console reads and acts through the sender's JSON API: the handler
// that serves /v1/ is called in process (no socket, no second copy of any
// query) by the Go client, with the signed-in key. The API's answer —
// including a 403 for a scope the key lacks — is what the page shows.

// apiHost names the in-process API in the client's URLs; no request
// leaves the process.
const apiHost = "http://sender.internal"

// client is the API as the request's key sees it.
func (c *Console) client(cur current) *senderclient.Client {
	cl, err := senderclient.New(apiHost, senderclient.WithAPIKey(cur.key.Key), senderclient.WithRetry(senderclient.NoRetry),
		senderclient.WithHTTPClient(&http.Client{Transport: inProcess{c.api}}), senderclient.WithUserAgent("minipush-console"))
	if err != nil {
		panic("console: " + err.Error()) // apiHost is a constant
	}
	return cl
}

// inProcess is a RoundTripper that serves requests with a handler.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	in := req.Clone(req.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "console"
	rec := &recorder{header: http.Header{}}
	t.h.ServeHTTP(rec, in)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &http.Response{Status: http.StatusText(rec.status), StatusCode: rec.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.header, Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())), ContentLength: int64(rec.body.Len()), Request: req}, nil
}

// recorder is the ResponseWriter of an in-process call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
