package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/minipush/minipush/internal/httpserver"
	"github.com/minipush/minipush/sender/internal/storage"
)

// Input limits (README "Limits"). Identifiers are counted in bytes, text
// in characters. Every platform's own ids are far shorter (a WeChat openid
// is 28 bytes, a template id 43); the limits are there so that a caller's
// mistake or malice costs a 422, not megabytes of rows and index.
const (
	maxRecipientBytes      = 128 // to, each broadcast recipient, each group member
	maxTemplateIDBytes     = 128
	maxDataKeys            = 32
	maxDataKeyBytes        = 64
	maxPageChars           = 1024
	maxIdempotencyKeyBytes = 256
	maxGroupNameBytes      = 128
	// maxGroupMembers bounds one PUT /v1/groups/{name}: groups are how
	// large audiences are addressed.
	maxGroupMembers = 1_000_000
	// bulkDeadline is how long a broadcast or group upload may take to
	// read and answer, past the server's read and write timeouts (the body
	// size limit bounds it too): megabytes from a slow link are not a
	// Slowloris, and a client cut off after its broadcast was committed
	// would only send it again.
	bulkDeadline = 5 * time.Minute
	// sendAtHorizon is how far ahead send_at may be: a date years away is
	// a mistake (or a typo like 9999) that would sit in the queue forever.
	sendAtHorizon = 365 * 24 * time.Hour
	// maxPathIDBytes bounds the {id} of a message or broadcast.
	maxPathIDBytes = 64
	// maxQueryValueBytes bounds one query parameter's value.
	maxQueryValueBytes = 512
	// maxProblems bounds the problems one answer lists (a broadcast can
	// carry many bad recipients).
	maxProblems = 20
)

// checkIdent checks an identifier-like value: at most max bytes, valid
// UTF-8, no control characters. It does not check for empty.
func checkIdent(field, v string, max int) []Problem {
	switch {
	case len(v) > max:
		return []Problem{{field, "too_long", fmt.Sprintf("%s is %d bytes, over the limit of %d", field, len(v), max)}}
	case !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0:
		return []Problem{{field, "invalid", field + " holds invalid UTF-8 or a control character"}}
	}
	return nil
}

// checkList checks each entry of a recipient list (to, members).
func checkList(field string, list []string) []Problem {
	var ps []Problem
	for i, v := range list {
		ps = append(ps, checkIdent(fmt.Sprintf("%s[%d]", field, i), v, maxRecipientBytes)...)
		if len(ps) >= maxProblems {
			break
		}
	}
	return ps
}

// checkData bounds the data map itself: the number of keys and each key.
// Values are bounded by the platform's keyword rules (sender/internal/templates).
func checkData(data map[string]string) []Problem {
	if len(data) > maxDataKeys {
		return []Problem{{"data", "too_many", fmt.Sprintf("data has %d keys, over the limit of %d", len(data), maxDataKeys)}}
	}
	var ps []Problem
	for _, k := range sortedKeys(data) {
		switch {
		case k == "":
			ps = append(ps, Problem{"data", "invalid_key", "data has an empty key"})
		case len(k) > maxDataKeyBytes:
			ps = append(ps, Problem{"data", "key_too_long", fmt.Sprintf("data key %q… is %d bytes, over the limit of %d",
				truncate(k, 16), len(k), maxDataKeyBytes)})
		case !utf8.ValidString(k) || strings.IndexFunc(k, unicode.IsControl) >= 0:
			ps = append(ps, Problem{"data", "invalid_key", "a data key holds invalid UTF-8 or a control character"})
		}
	}
	return ps
}

// checkSendAt refuses a send_at beyond the horizon.
func checkSendAt(sendAt *time.Time, now time.Time) []Problem {
	if sendAt != nil && sendAt.After(now.Add(sendAtHorizon)) {
		return []Problem{{"send_at", "too_far", fmt.Sprintf("send_at is more than %d days ahead (the limit)", int(sendAtHorizon.Hours()/24))}}
	}
	return nil
}

// capProblems keeps the first maxProblems, noting how many were left out.
func capProblems(ps []Problem) []Problem {
	if len(ps) <= maxProblems {
		return ps
	}
	return append(ps[:maxProblems:maxProblems], Problem{ps[maxProblems].Field, "more",
		fmt.Sprintf("and %d more problems", len(ps)-maxProblems)})
}

func truncate(s string, n int) string {
	for i := range s {
		if i >= n {
			return s[:i]
		}
	}
	return s
}

// bulk lifts the server's read and write timeouts for a bulk upload.
func bulk(w http.ResponseWriter, r *http.Request) {
	httpserver.ExtendReadDeadline(w, r, bulkDeadline)
	httpserver.ExtendWriteDeadline(w, r, bulkDeadline)
}

// writeBadParams answers 400 naming each bad query or path parameter.
func writeBadParams(w http.ResponseWriter, ps []Problem) {
	writeJSON(w, http.StatusBadRequest, errorBody{Error: "bad query or path parameter", Problems: capProblems(ps)})
}

// queryParams reads the query of an endpoint that takes the named
// parameters (none: names empty). Each parameter may appear once; an
// unknown one, a repeated one, invalid percent-encoding or a value over
// maxQueryValueBytes is a problem naming it — url.Values would silently
// drop the first three, and a typo such as ?stauts=failed would list
// every message.
func queryParams(r *http.Request, names ...string) (map[string]string, []Problem) {
	raw := r.URL.RawQuery
	if raw == "" {
		return nil, nil
	}
	out := map[string]string{}
	var ps []Problem
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			ps = append(ps, Problem{paramName(rawKey), "invalid_encoding", "a query parameter name is not valid percent-encoding"})
			continue
		}
		val, err := url.QueryUnescape(rawVal)
		switch {
		case key == "":
			ps = append(ps, Problem{"query", "unnamed_parameter", "a query parameter has no name (\"=value\")"})
		case !slices.Contains(names, key):
			ps = append(ps, Problem{paramName(key), "unknown_parameter", unknownParam(key, names)})
		case err != nil:
			ps = append(ps, Problem{key, "invalid_encoding", key + " is not valid percent-encoding"})
		case len(val) > maxQueryValueBytes:
			ps = append(ps, Problem{key, "too_long", fmt.Sprintf("%s is %d bytes, over the limit of %d", key, len(val), maxQueryValueBytes)})
		default:
			if _, dup := out[key]; dup {
				ps = append(ps, Problem{key, "repeated", key + " is given more than once"})
			}
			out[key] = val
		}
		if len(ps) > maxProblems {
			break
		}
	}
	return out, ps
}

// paramName is an unknown parameter's name as a problem reports it: cut
// short, and percent-encoded when it is not UTF-8 (JSON would turn its
// bytes into U+FFFD).
func paramName(key string) string {
	if !utf8.ValidString(key) {
		key = url.QueryEscape(key)
	}
	return truncate(key, 32)
}

func unknownParam(key string, names []string) string {
	if len(names) == 0 {
		return fmt.Sprintf("unknown query parameter %q: this endpoint takes none", truncate(key, 32))
	}
	return fmt.Sprintf("unknown query parameter %q (known: %s)", truncate(key, 32), strings.Join(names, ", "))
}

// pathID reads the {id} of a message or broadcast: ids are the sender's
// own (msg_… or bc_…, letters, digits, '_' and '-').
func pathID(r *http.Request) (string, []Problem) {
	id := mux.Vars(r)["id"]
	if !isID(id) {
		return "", []Problem{{"id", "invalid", fmt.Sprintf("id must be up to %d letters, digits, '_' or '-'", maxPathIDBytes)}}
	}
	return id, nil
}

// isID reports whether id has the shape of the sender's own ids: up to
// maxPathIDBytes ASCII letters, digits, '_' and '-'.
func isID(id string) bool {
	return len(id) <= maxPathIDBytes && strings.IndexFunc(id, func(c rune) bool {
		return !(c == '_' || c == '-' || c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)))
	}) < 0
}

// listLimit reads a list's limit parameter (1..1000; 0 when absent, the
// store's default), adding a problem to ps when it is out of range or
// given empty ("?limit=", which the API document refuses too).
func listLimit(q map[string]string, ps []Problem) (int, []Problem) {
	s, given := q["limit"]
	if !given {
		return 0, ps
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1000 {
		ps = append(ps, Problem{"limit", "range", "limit must be an integer 1..1000"})
	}
	return n, ps
}

// badCursor answers 400 when a list's store call could not find the
// cursor it was given (the only thing a list can fail to find) and
// reports whether it did.
func badCursor(w http.ResponseWriter, err error, cursor string) bool {
	if cursor == "" || !errors.Is(err, storage.ErrNotFound) {
		return false
	}
	writeBadParams(w, []Problem{{"cursor", "invalid", "cursor must be a next_cursor from a previous page"}})
	return true
}

// pathGroup reads the {name} of a group.
func pathGroup(r *http.Request) (string, []Problem) {
	name := mux.Vars(r)["name"]
	return name, checkIdent("name", name, maxGroupNameBytes)
}
