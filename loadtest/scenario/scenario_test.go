package scenario_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/minipush/minipush/loadtest/scenario"
	"github.com/minipush/minipush/mockserver/mockkeyword"
)

func TestParseMix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want: the canonical String(), or the error text
		wantErr  bool
	}{
		{in: scenario.DefaultMix, want: scenario.DefaultMix},
		{in: "valid=100", want: "valid=100"},
		{in: " Valid = 3 , nogrant=1 ,", want: "valid=3,nogrant=1"},
		{in: "valid=1,content=0", want: "valid=1"},
		{in: "", want: "at least one kind", wantErr: true},
		{in: "valid=0", want: "at least one kind", wantErr: true},
		{in: "valid", want: "want kind=weight", wantErr: true},
		{in: "spam=5", want: `unknown kind "spam"`, wantErr: true},
		{in: "valid=-1", want: "non-negative integer", wantErr: true},
		{in: "valid=1.5", want: "non-negative integer", wantErr: true},
		{in: "valid=1,valid=2", want: "given twice", wantErr: true},
		{in: "valid=1000001", want: "up to 1000000", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			m, err := scenario.ParseMix(tt.in)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("ParseMix(%q) error = %v, want one containing %q", tt.in, err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMix(%q): %v", tt.in, err)
			}
			if m.String() != tt.want {
				t.Errorf("String() = %q, want %q", m.String(), tt.want)
			}
		})
	}
}

// Picks are deterministic per (seed, n) and follow the weights.
func TestPick(t *testing.T) {
	t.Parallel()
	m := scenario.MustParseMix(scenario.DefaultMix)
	const n = 200_000
	counts := map[scenario.Kind]int{}
	for i := range uint64(n) {
		k := m.Pick(7, i)
		if k != m.Pick(7, i) {
			t.Fatalf("Pick(7, %d) not deterministic", i)
		}
		counts[k]++
	}
	for _, k := range scenario.Kinds {
		want := float64(m.Weight(k)) / 100
		got := float64(counts[k]) / n
		if math.Abs(got-want) > 0.005 {
			t.Errorf("%s: share %.4f, want %.2f±0.005", k, got, want)
		}
	}
	differ := 0
	for i := range uint64(1000) {
		if m.Pick(7, i) != m.Pick(8, i) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("seeds 7 and 8 pick the same 1000 kinds: the seed is ignored")
	}
}

func TestWithout(t *testing.T) {
	t.Parallel()
	m := scenario.MustParseMix(scenario.DefaultMix).Without(scenario.Broadcast)
	if m.Weight(scenario.Broadcast) != 0 || m.String() != "valid=80,content=5,badkeyword=5,nogrant=5" {
		t.Errorf("Without(broadcast) = %q", m)
	}
	for i := range uint64(10_000) {
		if m.Pick(1, i) == scenario.Broadcast {
			t.Fatal("picked a dropped kind")
		}
	}
	if !scenario.MustParseMix("broadcast=1").Without(scenario.Broadcast).Empty() {
		t.Error("dropping the only kind should leave an empty mix")
	}
}

// Each kind's data breaks exactly the rule it is meant to break: checked
// with the mock's keyword rules (the oracle; mockserver/mockkeyword).
func TestData(t *testing.T) {
	t.Parallel()
	marker := scenario.Marker("lt0123abcd", 1<<40)
	tests := []struct {
		kind   scenario.Kind
		reason mockkeyword.Reason // "" = valid
	}{
		{scenario.Valid, ""},
		{scenario.Content, ""}, // valid keywords; the content rule refuses it
		{scenario.BadKeyword, mockkeyword.ReasonTooLong},
		{scenario.NoGrant, ""},
		{scenario.Broadcast, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			data := scenario.Data(tt.kind, marker, "fake-invoice")
			if len(data) != len(scenario.Keywords) || data[scenario.KeyMarker] != marker {
				t.Fatalf("data = %v, want the template's keywords with the marker", data)
			}
			if err := mockkeyword.WeChat(scenario.KeyMarker, marker, nil); err != nil {
				t.Errorf("marker %q breaks its keyword rule: %v", marker, err)
			}
			err := mockkeyword.WeChat(scenario.KeyText, data[scenario.KeyText], nil)
			var v *mockkeyword.Violation
			switch {
			case tt.reason == "" && err != nil:
				t.Errorf("%s text %q: %v, want valid", tt.kind, data[scenario.KeyText], err)
			case tt.reason != "" && (!errors.As(err, &v) || v.Reason != tt.reason):
				t.Errorf("%s text %q: %v, want %s", tt.kind, data[scenario.KeyText], err, tt.reason)
			}
			hasWord := strings.Contains(data[scenario.KeyText], "fake-invoice")
			if hasWord != (tt.kind == scenario.Content) {
				t.Errorf("%s text %q: holds the content word = %v", tt.kind, data[scenario.KeyText], hasWord)
			}
		})
	}
}

func TestMarker(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := range uint64(10_000) {
		m := scenario.Marker("ltdeadbeef", i)
		if seen[m] || !strings.HasPrefix(m, scenario.MarkerPrefix("ltdeadbeef")) {
			t.Fatalf("marker %q repeated or without the run prefix", m)
		}
		seen[m] = true
	}
}

func FuzzParseMix(f *testing.F) {
	for _, s := range []string{scenario.DefaultMix, "valid=1", "valid=,", "=", "valid=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := scenario.ParseMix(s)
		if err != nil {
			return
		}
		again, err := scenario.ParseMix(m.String())
		if err != nil || again.String() != m.String() {
			t.Fatalf("ParseMix(%q).String() = %q does not parse back: %v", s, m.String(), err)
		}
		for i := range uint64(50) {
			if m.Weight(m.Pick(1, i)) <= 0 {
				t.Fatalf("picked a kind without weight from %q", m)
			}
		}
	})
}

func ExampleParseMix() {
	m, err := scenario.ParseMix("valid=80,content=5,badkeyword=5,nogrant=5,broadcast=5")
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Weight(scenario.Valid), m.Pick(1, 0))
	// Output: 80 valid
}
