package benchcompare

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/minipush/minipush/internal/httpserver"
	"github.com/minipush/minipush/internal/sendcases"
	"github.com/minipush/minipush/mockserver"
)

// Child process kinds (Serve).
const (
	ServePlain = "plain" // every case's plain handler, and the sender's
	ServeMock  = "mock"  // the mock seeded with every case's app
	ServeHog   = "hog"   // one busy core, for the headroom figure
)

// Serve runs one child of the comparison until ctx ends: it listens on a
// free loopback port and writes its URL, one line, to out. A hog writes
// "hog" and spins one core.
func Serve(ctx context.Context, kind string, out io.Writer) error {
	var h http.Handler
	switch kind {
	case ServeHog:
		return hog(ctx, out)
	case ServePlain:
		mux := http.NewServeMux()
		mux.Handle("/v1/messages", plainAccept())
		mux.Handle("/", sendcases.Baselines())
		h = mux
	case ServeMock:
		srv, err := mockserver.New(mockserver.WithSeed(sendcases.Seed()), mockserver.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			return err
		}
		h = srv.Handler()
	default:
		return fmt.Errorf("serve %q: want %s, %s or %s", kind, ServePlain, ServeMock, ServeHog)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// The servers' own limits (timeouts, header cap, connection cap), as
	// the binaries run them.
	hs := httpserver.New(h, httpserver.Defaults())
	fmt.Fprintf(out, "http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	case err := <-errc:
		return err
	}
}

// hog keeps one core busy until ctx ends, like `stress --cpu 1`.
func hog(ctx context.Context, out io.Writer) error {
	runtime.GOMAXPROCS(1)
	fmt.Fprintln(out, "hog")
	var x uint64
	for i := uint64(0); ctx.Err() == nil; i++ {
		for j := range 1 << 20 {
			x += uint64(j) ^ i
		}
	}
	_ = x
	return nil
}

// plainRequest is the sender's POST /v1/messages body.
type plainRequest struct {
	App            string            `json:"app"`
	To             string            `json:"to"`
	TemplateID     string            `json:"template_id"`
	Data           map[string]string `json:"data"`
	Page           string            `json:"page"`
	IdempotencyKey string            `json:"idempotency_key"`
	SendAt         *time.Time        `json:"send_at"`
}

// plainAccept is the least a server of the sender's accept API does:
// decode the body and answer 202 with an id. No storage, no validation.
func plainAccept() http.Handler {
	var seq atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req plainRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}{"msg_" + strconv.FormatInt(seq.Add(1), 10), "queued"})
	})
}
