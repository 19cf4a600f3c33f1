package benchload_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/minipush/minipush/internal/benchload"
)

func ExampleRun() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer srv.Close()

	target := benchload.Target{Method: http.MethodGet, URL: srv.URL, Check: benchload.CheckPrefix(`{"errcode":0,`)}
	res, err := benchload.Run(context.Background(), srv.Client(), target, 50, 4)
	if err != nil {
		fmt.Println("run:", err)
		return
	}
	fmt.Println(res.Requests, "requests,", len(res.Latencies), "latencies, p99 > 0:", res.Percentile(99) > 0)
	// Output: 50 requests, 50 latencies, p99 > 0: true
}
