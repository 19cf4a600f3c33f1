// Package csvaudience reads a CSV audience (issue 16, docs/campaigns.md):
// a header naming a recipient column "to" and keyword columns, then one
// recipient per row with its own keyword values. The file is read as a
// stream, row by row — one record in memory at a time — and every row is
// checked: a bad row is counted and reported (line, field, reason), the
// good ones are handed on as members. What a bad row does to the upload is
// the caller's choice (Options.Reject, Options.MaxBadRows).
package csvaudience

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/minipush/minipush/sender/internal/message"
)

// ToColumn is the recipient column's name in the header.
const ToColumn = "to"

// Limits of the header.
const (
	maxColumns        = 33 // "to" and at most 32 keywords (the API's data limit)
	maxColumnNameSize = 64
)

// Check judges one row: the recipient and its own keyword values (the
// non-empty cells). It answers "" for a good row, else the field at fault
// (ToColumn or a keyword column), a rule and a reason.
type Check func(to string, data map[string]string) (field, rule, reason string)

// Options configure a Reader.
type Options struct {
	// MaxRows bounds the data rows (0: no bound); a longer file fails.
	MaxRows int
	// Reject fails the upload when any row is bad, after reading it all
	// (so the report lists every bad row, up to message.MaxRowErrors).
	// Otherwise bad rows are skipped — unless there are more than
	// MaxBadRows, which fails the upload at once.
	Reject     bool
	MaxBadRows int
	Check      Check
	// Seen is called with each record's fields as read (a request's
	// fingerprint), the header first.
	Seen func(fields []string)
	// End is called when the file ends, before the last checks (a
	// multipart body checks nothing follows the file).
	End func() error
}

// Error is an upload refused as a whole: a bad header, too many bad rows,
// no good row, too many rows. Report is what was read until then.
type Error struct {
	Field, Rule, Message string
	Report               *message.AudienceReport
}

func (e *Error) Error() string { return e.Field + ": " + e.Message }

// Reader reads one CSV audience.
type Reader struct {
	r       *csv.Reader
	opts    Options
	columns []string // the header, trimmed
	toCol   int
	report  message.AudienceReport
}

// New reads the header from r. A header without a "to" column, with an
// empty, repeated or invalid column name, or with too many columns is an
// *Error; a file that is not CSV at all is an error wrapping
// csv.ParseError or the read's error.
func New(r io.Reader, opts Options) (*Reader, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	rd := &Reader{r: cr, opts: opts, toCol: -1, report: message.AudienceReport{Errors: []message.RowError{}}}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, rd.fail("body", "required", "the CSV is empty: its first line must be a header naming a to column")
	}
	if err != nil {
		return nil, fmt.Errorf("read the CSV header: %w", err)
	}
	if len(header) > maxColumns {
		return nil, rd.fail("header", "too_many", fmt.Sprintf("the header has %d columns, over the limit of %d (to and 32 keywords)", len(header), maxColumns))
	}
	seen := map[string]bool{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte order mark, as spreadsheet exports write
		}
		h = strings.TrimSpace(h)
		switch {
		case h == "":
			return nil, rd.fail("header", "empty", fmt.Sprintf("column %d of the header has no name", i+1))
		case seen[h]:
			return nil, rd.fail("header", "repeated", fmt.Sprintf("column %q is named twice in the header", h))
		case h != ToColumn && !validName(h):
			return nil, rd.fail("header", "invalid", fmt.Sprintf("column %q: a keyword column is named by up to %d letters, digits or _", truncate(h, 32), maxColumnNameSize))
		}
		seen[h] = true
		if h == ToColumn {
			rd.toCol = i
		}
		rd.columns = append(rd.columns, h)
	}
	if rd.toCol < 0 {
		return nil, rd.fail("header", "required", `the header has no "to" column (the recipients)`)
	}
	if opts.Seen != nil {
		opts.Seen(rd.columns)
	}
	cr.FieldsPerRecord = len(header)
	return rd, nil
}

func validName(s string) bool {
	if len(s) > maxColumnNameSize {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c))) {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Keywords are the header's keyword columns, in order.
func (rd *Reader) Keywords() []string {
	var out []string
	for i, c := range rd.columns {
		if i != rd.toCol {
			out = append(out, c)
		}
	}
	return out
}

// Report is what was read so far (complete once Members has ended).
func (rd *Reader) Report() *message.AudienceReport {
	r := rd.report
	r.Errors = append([]message.RowError{}, rd.report.Errors...)
	return &r
}

func (rd *Reader) fail(field, rule, msg string) *Error {
	return &Error{Field: field, Rule: rule, Message: msg, Report: rd.Report()}
}

func (rd *Reader) bad(line int, field, rule, reason string) {
	rd.report.Rejected++
	if len(rd.report.Errors) < message.MaxRowErrors {
		rd.report.Errors = append(rd.report.Errors, message.RowError{Line: line, Field: field, Rule: rule, Reason: reason})
	}
}

// Members yields the good rows as members, in file order, and ends with
// an *Error when the upload is refused (or the read's error): a store
// commits the members only when the sequence ends without one.
func (rd *Reader) Members() iter.Seq2[message.Member, error] {
	return func(yield func(message.Member, error) bool) {
		for {
			rec, err := rd.r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			var pe *csv.ParseError
			if err != nil && !errors.As(err, &pe) {
				yield(message.Member{}, fmt.Errorf("read the CSV: %w", err))
				return
			}
			rd.report.Rows++
			if rd.opts.MaxRows > 0 && rd.report.Rows > rd.opts.MaxRows {
				yield(message.Member{}, rd.fail("body", "too_many", fmt.Sprintf("the CSV has more than %d rows", rd.opts.MaxRows)))
				return
			}
			if pe != nil {
				rule := "malformed"
				if errors.Is(pe.Err, csv.ErrFieldCount) {
					rule = "field_count"
				}
				rd.bad(pe.StartLine, "", rule, rowReason(pe, len(rd.columns)))
			} else {
				line, _ := rd.r.FieldPos(0)
				if rd.opts.Seen != nil {
					rd.opts.Seen(rec)
				}
				m, field, rule, reason := rd.row(rec)
				if rule != "" {
					rd.bad(line, field, rule, reason)
				} else {
					rd.report.Accepted++
					if !rd.opts.Reject || rd.report.Rejected == 0 {
						if !yield(m, nil) {
							return
						}
					}
				}
			}
			if !rd.opts.Reject && rd.report.Rejected > rd.opts.MaxBadRows {
				yield(message.Member{}, rd.fail("body", "too_many_bad_rows",
					fmt.Sprintf("more than %d bad rows (max_bad_rows): nothing is stored", rd.opts.MaxBadRows)))
				return
			}
		}
		if rd.opts.End != nil {
			if err := rd.opts.End(); err != nil {
				yield(message.Member{}, err)
				return
			}
		}
		switch {
		case rd.opts.Reject && rd.report.Rejected > 0:
			yield(message.Member{}, rd.fail("body", "bad_rows",
				fmt.Sprintf("%d of %d rows are bad and on_error is reject: nothing is stored", rd.report.Rejected, rd.report.Rows)))
		case rd.report.Accepted == 0:
			yield(message.Member{}, rd.fail("body", "required", "the CSV has no good row: no recipient to store"))
		}
	}
}

func rowReason(pe *csv.ParseError, want int) string {
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		return fmt.Sprintf("the row does not have the header's %d fields", want)
	}
	return pe.Err.Error()
}

// row makes rec a member, or says what is wrong with it.
func (rd *Reader) row(rec []string) (m message.Member, field, rule, reason string) {
	to := strings.TrimSpace(rec[rd.toCol])
	if to == "" {
		return m, ToColumn, "required", "the recipient (to) is empty"
	}
	data := make(map[string]string, len(rec)-1)
	for i, v := range rec {
		if i == rd.toCol || v == "" {
			continue
		}
		if !utf8.ValidString(v) {
			return m, rd.columns[i], "encoding", rd.columns[i] + " is not UTF-8"
		}
		data[rd.columns[i]] = v
	}
	if rd.opts.Check != nil {
		if field, rule, reason := rd.opts.Check(to, data); rule != "" {
			return m, field, rule, reason
		}
	}
	return message.Member{To: to, Data: data}, "", "", ""
}
