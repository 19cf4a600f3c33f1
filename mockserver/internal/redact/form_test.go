package redact

import (
	"bytes"
	"testing"
)

// formByByte is form as it was, scanning for the separators byte by byte:
// the reference FuzzForm holds form to.
func formByByte(b []byte) []byte {
	e := editor{src: b}
	for start := 0; start < len(b); {
		end := start
		for end < len(b) && b[end] != '&' && b[end] != ';' {
			end++
		}
		if eq := bytes.IndexByte(b[start:end], '='); eq >= 0 && isKey(b[start:start+eq]) && start+eq+1 < end {
			e.mask(start+eq+1, end)
		}
		start = end + 1
	}
	return e.result()
}

var formSeeds = []string{
	"", "&", ";", "a=b", "access_token=tok&data=%7B%7D", "a=1;access_token=x&sign=y;z", "access_token=",
	"sign=a;b&secret=c", ";;&&sign=1", "x=1&sign", "sign=1&", "sign=1;", "&sign=2;token=3&a=4;b=5",
	"app_id=ks1&access_token=80_abc&template_id=t&to_user=u&page=p&data=%7B%22thing1%22%3A%7B%22value%22%3A%22x%22%7D%7D",
}

func TestFormMatchesByteLoop(t *testing.T) {
	for _, in := range formSeeds {
		if got, want := form([]byte(in)), formByByte([]byte(in)); !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("form(%q) = %q; the byte loop: %q", in, got, want)
		}
	}
}

// FuzzForm:
//
//	go test -run '^$' -fuzz FuzzForm -fuzztime 30s ./mockserver/internal/redact/
func FuzzForm(f *testing.F) {
	for _, s := range formSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if got, want := form(in), formByByte(in); !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("form(%q) = %q; the byte loop: %q", in, got, want)
		}
	})
}
