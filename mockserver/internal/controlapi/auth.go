package controlapi

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// Prefix is where the control API lives, platforms' own control routes
// (/_mock/<platform>/…) included.
const Prefix = "/_mock"

// RequireToken guards every path under Prefix with Authorization: Bearer
// token (the scheme case-insensitive, RFC 9110 §11.1; the token compared
// in constant time). Other paths — the platforms' APIs, /healthz, /readyz —
// pass untouched: a platform path answers as the platform would, whatever
// the mock's own settings. An empty token guards nothing: the mock is a
// development tool and its control API is open by default.
func RequireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != Prefix && !strings.HasPrefix(r.URL.Path, Prefix+"/") {
			next.ServeHTTP(w, r)
			return
		}
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if ok && strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare([]byte(got), want) == 1 {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="minipush mock control API"`)
		writeError(w, http.StatusUnauthorized, "Authorization",
			errors.New("the control API needs Authorization: Bearer <token> (the mock runs with -control-token)"))
	})
}
