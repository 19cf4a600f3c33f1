package csvaudience_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/minipush/minipush/sender/internal/csvaudience"
	"github.com/minipush/minipush/sender/internal/message"
)

// thingRule refuses a thing1 over 5 characters, as a keyword rule would.
func thingRule(to string, data map[string]string) (string, string, string) {
	if v, ok := data["thing1"]; ok && utf8.RuneCountInString(v) > 5 {
		return "thing1", "too_long", "thing1 is over 5 characters"
	}
	return "", "", ""
}

func read(t *testing.T, body string, o csvaudience.Options) ([]message.Member, *message.AudienceReport, error) {
	t.Helper()
	rd, err := csvaudience.New(strings.NewReader(body), o)
	if err != nil {
		return nil, nil, err
	}
	var ms []message.Member
	for m, err := range rd.Members() {
		if err != nil {
			return ms, rd.Report(), err
		}
		ms = append(ms, m)
	}
	return ms, rd.Report(), nil
}

func TestRowsAndReport(t *testing.T) {
	t.Parallel()
	body := "\ufeff to ,thing1,amount2\r\n" + // line 1, with a BOM and spaces
		"u1,ok,1\r\n" + // 2
		",nobody,2\r\n" + // 3: no recipient
		"u2,far too long,3\r\n" + // 4: the check refuses thing1
		"u3,\"a,b\",4\r\n" + // 5: quoted comma
		"u4,short\r\n" + // 6: a field short
		"\r\n" + // blank: skipped, not counted
		"u5,,5\r\n" // 8: thing1 empty → absent
	ms, rep, err := read(t, body, csvaudience.Options{MaxBadRows: 10, Check: thingRule})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ms); got != "[{u1 map[amount2:1 thing1:ok]} {u3 map[amount2:4 thing1:a,b]} {u5 map[amount2:5]}]" {
		t.Errorf("members = %s", got)
	}
	want := []message.RowError{{Line: 3, Field: "to", Rule: "required"}, {Line: 4, Field: "thing1", Rule: "too_long"},
		{Line: 6, Field: "", Rule: "field_count"}}
	if rep.Rows != 6 || rep.Accepted != 3 || rep.Rejected != 3 || len(rep.Errors) != 3 {
		t.Fatalf("report = %+v", rep)
	}
	for i, w := range want {
		if g := rep.Errors[i]; g.Line != w.Line || g.Field != w.Field || g.Rule != w.Rule || g.Reason == "" {
			t.Errorf("error %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestPolicies(t *testing.T) {
	t.Parallel()
	body := "to,thing1\nu1,ok\n,x\nu2,ok\n,y\n"
	var ce *csvaudience.Error
	// skip within the cap: the good rows.
	if ms, rep, err := read(t, body, csvaudience.Options{MaxBadRows: 2}); err != nil || len(ms) != 2 || rep.Rejected != 2 {
		t.Errorf("skip, cap 2: %v members, %+v, %v", ms, rep, err)
	}
	// skip over the cap: refused at the second bad row.
	if _, _, err := read(t, body, csvaudience.Options{MaxBadRows: 1}); !errors.As(err, &ce) || ce.Rule != "too_many_bad_rows" || ce.Report.Rejected != 2 {
		t.Errorf("skip, cap 1: %v", err)
	}
	// reject: refused after reading it all, no member handed on after the
	// first bad row.
	ms, _, err := read(t, body, csvaudience.Options{Reject: true})
	if !errors.As(err, &ce) || ce.Rule != "bad_rows" || ce.Report.Rows != 4 || len(ms) != 1 {
		t.Errorf("reject: %v members, %v", ms, err)
	}
	// no good row.
	if _, _, err := read(t, "to\n,\n", csvaudience.Options{MaxBadRows: 5}); !errors.As(err, &ce) || ce.Rule != "required" {
		t.Errorf("no good row: %v", err)
	}
	// too many rows.
	if _, _, err := read(t, body, csvaudience.Options{MaxRows: 2, MaxBadRows: 5}); !errors.As(err, &ce) || ce.Rule != "too_many" {
		t.Errorf("max rows: %v", err)
	}
}

func TestHeader(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"", "openid,thing1\n", "to,to\n", "to,,x\n", "to,thing 1\n", "to," + strings.Repeat("k,", 40) + "z\n"} {
		_, _, err := read(t, h+"u1\n", csvaudience.Options{})
		var ce *csvaudience.Error
		if !errors.As(err, &ce) {
			t.Errorf("header %q: %v, want an *Error", h, err)
		}
	}
}

// FuzzReader: any body either fails with an error or yields members whose
// recipients are non-empty, counted by the report; never a panic.
func FuzzReader(f *testing.F) {
	f.Add("to,thing1\nu1,x\n")
	f.Add("\ufeffto\n\"u\"\"1\"\n,\n")
	f.Add("to,a\n\"unterminated\n")
	f.Fuzz(func(t *testing.T, body string) {
		rd, err := csvaudience.New(strings.NewReader(body), csvaudience.Options{MaxBadRows: 1 << 20})
		if err != nil {
			return
		}
		n := 0
		for m, err := range rd.Members() {
			if err != nil {
				return
			}
			if strings.TrimSpace(m.To) == "" || m.Data == nil {
				t.Fatalf("member %+v", m)
			}
			n++
		}
		if rep := rd.Report(); rep.Accepted != n || rep.Rows != rep.Accepted+rep.Rejected {
			t.Fatalf("report %+v for %d members", rep, n)
		}
	})
}
