package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Group limits: members per PUT, and members per page of a GET.
// maxGroupMembers is in limits.go.
const (
	maxGroupPage     = 10_000
	defaultGroupPage = 10_000
	// maxGroupPut bounds one PUT, however steadily its body arrives.
	maxGroupPut = 10 * time.Minute
	// progressEvery members read, a PUT earns another read and write
	// timeout (below).
	progressEvery = 2000
)

// PUT /v1/groups/{name} {"app","members":[…]} replaces the group's
// members. The body is read as a stream and the members handed to storage
// as they come, in chunks: a million members never sit in memory at once
// nor make one long write. The group switches over when the whole body
// has been read and found valid; any problem leaves it as it was. So that
// the app is known before the members arrive, "app" comes first in the
// body (or as ?app=).
//
// Reading a million members takes as long as writing them, longer than
// the server's read and write timeouts allow a request. So a PUT that
// makes progress — every progressEvery members — gets those timeouts anew
// from that moment, up to maxGroupPut in all: a body trickled slower than
// that is still cut.
func (a *API) putGroup(w http.ResponseWriter, r *http.Request) {
	if csvBody(r) {
		a.putGroupCSV(w, r)
		return
	}
	name, ps := pathGroup(r)
	q, qp := queryParams(r, "app")
	if ps = append(ps, qp...); len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	if !hasJSONBody(w, r) {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if ps := checkIdent("idempotency_key", key, maxIdempotencyKeyBytes); len(ps) > 0 {
		writeProblems(w, ps)
		return
	}
	body := http.MaxBytesReader(w, r.Body, maxGroupBody)
	progress := deadlineExtender(w, r, maxGroupPut)
	dec := json.NewDecoder(body)
	app := q["app"]

	fail := func(err error) {
		var pe *groupProblem
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &pe) && pe.status == http.StatusBadRequest:
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid JSON body", Problems: []Problem{pe.Problem}})
		case errors.As(err, &pe):
			writeProblems(w, []Problem{pe.Problem})
		case errors.As(err, &tooBig):
			tooLarge(w, maxGroupBody)
		case errors.Is(err, errBadBody):
			badBody(w, err.Error())
		default:
			a.storeError(w, err, "group")
		}
	}
	checkApp := func() error {
		if _, ok := a.apps[app]; !ok {
			return &groupProblem{http.StatusUnprocessableEntity, Problem{"app", "unknown_app", "app must name a configured app"}}
		}
		return nil
	}

	if err := expectDelim(dec, '{'); err != nil {
		fail(err)
		return
	}
	for {
		field, err := nextKey(dec)
		if err != nil {
			fail(err)
			return
		}
		switch field {
		case "":
			// The object ended without members.
			if err := checkApp(); err != nil {
				fail(err)
				return
			}
			fail(&groupProblem{http.StatusUnprocessableEntity, Problem{"members", "required", "members must list at least one recipient"}})
			return
		case "app":
			if err := dec.Decode(&app); err != nil {
				fail(&groupProblem{http.StatusBadRequest, Problem{"app", "type", "app: want string"}})
				return
			}
		case "members":
			if app == "" {
				fail(&groupProblem{http.StatusUnprocessableEntity, Problem{"app", "required",
					`app is required before members: put "app" first in the body, or give ?app=`}})
				return
			}
			if err := checkApp(); err != nil {
				fail(err)
				return
			}
			// The fingerprint: what the PUT stores, member by member.
			fp := newStreamFingerprint("PUT", app, name)
			g, _, err := a.store.PutGroup(r.Context(), app, name, streamMembers(dec, progress, fp.add), key, fp.sum)
			if err != nil {
				fail(err)
				return
			}
			// A retried PUT is answered as the first one was: 200 either
			// way, with the group (name, size, …).
			writeJSON(w, http.StatusOK, g)
			return
		default:
			fail(&groupProblem{http.StatusBadRequest, Problem{field, "unknown_field", fmt.Sprintf("unknown field %q", field)}})
			return
		}
	}
}

// errBadBody marks a malformed body (400).
var errBadBody = errors.New("invalid JSON body")

// groupProblem is a problem found while streaming: 422 for a value the
// API refuses, 400 for a body of the wrong shape.
type groupProblem struct {
	status int
	Problem
}

func (p *groupProblem) Error() string { return p.Field + ": " + p.Message }

// streamMembers yields the members of the JSON array dec is at, trimmed,
// blanks skipped, then checks the rest of the body: the store commits the
// group only once the iterator ends without an error.
func streamMembers(dec *json.Decoder, progress func(), seen func(string)) func(yield func(string, error) bool) {
	return func(yield func(string, error) bool) {
		if err := expectDelim(dec, '['); err != nil {
			yield("", err)
			return
		}
		n, kept := 0, 0
		for dec.More() {
			var m string
			if err := dec.Decode(&m); err != nil {
				var te *json.UnmarshalTypeError
				if errors.As(err, &te) {
					field := fmt.Sprintf("members[%d]", n)
					yield("", &groupProblem{http.StatusBadRequest, Problem{field, "type",
						fmt.Sprintf("%s: want string, got %s", field, te.Value)}})
				} else {
					yield("", bodyErr(err))
				}
				return
			}
			if n%progressEvery == 0 {
				progress()
			}
			if n++; n > maxGroupMembers {
				yield("", &groupProblem{http.StatusUnprocessableEntity, Problem{"members", "too_many",
					fmt.Sprintf("a group holds at most %d members", maxGroupMembers)}})
				return
			}
			if m = strings.TrimSpace(m); m == "" {
				continue
			}
			if ps := checkIdent(fmt.Sprintf("members[%d]", n-1), m, maxRecipientBytes); len(ps) > 0 {
				yield("", &groupProblem{http.StatusUnprocessableEntity, ps[0]})
				return
			}
			kept++
			seen(m)
			if !yield(m, nil) {
				return
			}
			if n%progressEvery == 0 {
				// The store may have just written a chunk: its time does
				// not count against the client either.
				progress()
			}
		}
		if err := expectDelim(dec, ']'); err != nil {
			yield("", err)
			return
		}
		if kept == 0 {
			yield("", &groupProblem{http.StatusUnprocessableEntity, Problem{"members", "required", "members must list at least one recipient"}})
			return
		}
		// Nothing but the end of the object may follow.
		if key, err := nextKey(dec); err != nil {
			yield("", err)
			return
		} else if key != "" {
			yield("", &groupProblem{http.StatusBadRequest, Problem{key, "after_members",
				fmt.Sprintf("field %q comes after members: put every other field before members", key)}})
			return
		}
		if _, err := dec.Token(); err != io.EOF {
			yield("", fmt.Errorf("%w: body must hold exactly one JSON object", errBadBody))
		}
	}
}

// deadlineExtender returns a func that moves r's read and write deadlines
// to the server's timeouts from now, never past start+limit. It does
// nothing on a server without those timeouts.
func deadlineExtender(w http.ResponseWriter, r *http.Request, limit time.Duration) func() {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil || (srv.ReadTimeout <= 0 && srv.WriteTimeout <= 0) {
		return func() {}
	}
	rc := http.NewResponseController(w)
	end := time.Now().Add(limit)
	return func() {
		now := time.Now()
		// Errors mean a writer without deadlines or a connection already
		// gone, which the next read or write reports.
		if srv.ReadTimeout > 0 {
			_ = rc.SetReadDeadline(minTime(now.Add(srv.ReadTimeout), end))
		}
		if srv.WriteTimeout > 0 {
			_ = rc.SetWriteDeadline(minTime(now.Add(srv.WriteTimeout), end))
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// expectDelim reads one token, which must be d.
func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return bodyErr(err)
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("%w: want %q at byte %d", errBadBody, d, dec.InputOffset())
	}
	return nil
}

// nextKey reads the next key of the object dec is in, or "" at its end.
func nextKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", bodyErr(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '}' {
			return "", nil
		}
	case string:
		return t, nil
	}
	return "", fmt.Errorf("%w: unexpected %v at byte %d", errBadBody, tok, dec.InputOffset())
}

// bodyErr keeps an over-limit error recognisable and marks the rest as a
// malformed body.
func bodyErr(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: the body ended early", errBadBody)
	}
	return fmt.Errorf("%w: %v", errBadBody, err)
}

// GET /v1/groups/{name}?app=&cursor=&limit= → the group and a page of its
// members in ascending order; next_cursor continues ("" on the last page).
func (a *API) getGroup(w http.ResponseWriter, r *http.Request) {
	app, name, q, ok := a.groupParams(w, r, "limit", "cursor")
	if !ok {
		return
	}
	limit := defaultGroupPage
	if s, given := q["limit"]; given { // "?limit=" too: the API document refuses an empty value
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxGroupPage {
			writeBadParams(w, []Problem{{"limit", "range", fmt.Sprintf("limit must be 1..%d", maxGroupPage)}})
			return
		}
		limit = n
	}
	g, members, next, err := a.store.Group(r.Context(), app, name, q["cursor"], limit)
	if err != nil {
		a.storeError(w, err, "group")
		return
	}
	writeJSON(w, http.StatusOK, groupAnswer{Group: g, Members: members, NextCursor: next})
}

type groupAnswer struct {
	message.Group
	Members    []string `json:"members"`
	NextCursor string   `json:"next_cursor"`
}

// GET /v1/groups?app=&limit=&cursor= → a page of the app's groups by name
// (without members: GET /v1/groups/{name} pages through those).
func (a *API) listGroups(w http.ResponseWriter, r *http.Request) {
	q, ps := queryParams(r, "app", "limit", "cursor")
	if _, known := a.apps[q["app"]]; !known && len(ps) == 0 {
		ps = append(ps, Problem{"app", "unknown_app", "query parameter app must name a configured app"})
	}
	limit, ps := listLimit(q, ps)
	ps = append(ps, checkIdent("cursor", q["cursor"], maxGroupNameBytes)...)
	if len(ps) > 0 {
		writeBadParams(w, ps)
		return
	}
	gs, next, err := a.store.Groups(r.Context(), q["app"], q["cursor"], limit)
	if err != nil {
		a.storeError(w, err, "groups")
		return
	}
	writeJSON(w, http.StatusOK, page(gs, next))
}

// DELETE /v1/groups/{name}?app=
func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) {
	app, name, _, ok := a.groupParams(w, r)
	if !ok {
		return
	}
	idem := storage.Idempotency{Key: r.Header.Get("Idempotency-Key")}
	if ps := checkIdent("idempotency_key", idem.Key, maxIdempotencyKeyBytes); len(ps) > 0 {
		writeProblems(w, ps)
		return
	}
	if idem.Key != "" {
		idem.Fingerprint = newStreamFingerprint("DELETE", app, name).sum()
	}
	// A retried DELETE is answered as the first one was: 204, not 404.
	if _, err := a.store.DeleteGroup(r.Context(), app, name, idem); err != nil {
		a.storeError(w, err, "group")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// groupParams reads {name}, ?app= and the extra query parameters of a group
// read or delete (400 when any is bad).
func (a *API) groupParams(w http.ResponseWriter, r *http.Request, extra ...string) (app, name string, q map[string]string, ok bool) {
	name, ps := pathGroup(r)
	q, qp := queryParams(r, append([]string{"app"}, extra...)...)
	ps = append(ps, qp...)
	if _, known := a.apps[q["app"]]; !known && len(qp) == 0 {
		ps = append(ps, Problem{"app", "unknown_app", "query parameter app must name a configured app"})
	}
	if len(ps) > 0 {
		writeBadParams(w, ps)
		return "", "", nil, false
	}
	return q["app"], name, q, true
}
