package benchcompare

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// Baseline is the committed CPU ratio of each figure (Row.RatioCPU), the
// reference the CI check compares a run with.
type Baseline struct {
	// Tolerance is the largest fall of a ratio still accepted, as a
	// fraction of the baseline's (0.3: a ratio may be 30 % lower).
	Tolerance float64            `json:"tolerance"`
	Ratios    map[string]float64 `json:"ratios"`
	// Note says where the ratios come from (machine, load, date).
	Note string `json:"note,omitempty"`
}

// LoadBaseline reads a baseline file.
func LoadBaseline(path string) (Baseline, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Baseline{}, fmt.Errorf("read baseline: %w", err)
	}
	var bl Baseline
	if err := json.Unmarshal(b, &bl); err != nil {
		return Baseline{}, fmt.Errorf("baseline %s: %w", path, err)
	}
	if bl.Tolerance <= 0 || bl.Tolerance >= 1 {
		return Baseline{}, fmt.Errorf("baseline %s: tolerance %v: want a fraction between 0 and 1", path, bl.Tolerance)
	}
	return bl, nil
}

// BaselineOf makes a baseline of a run's ratios.
func BaselineOf(r Report, tolerance float64, note string) Baseline {
	bl := Baseline{Tolerance: tolerance, Ratios: map[string]float64{}, Note: note}
	for _, row := range r.Rows {
		if row.RatioCPU > 0 {
			bl.Ratios[row.Name] = round(row.RatioCPU, 3)
		}
	}
	return bl
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// Check compares a run with the baseline: every figure of the baseline
// must be in the run, its CPU ratio at least (1 - Tolerance) times the
// baseline's. It returns one line per regression, in name order.
func Check(r Report, bl Baseline) []string {
	var out []string
	names := make([]string, 0, len(bl.Ratios))
	for n := range bl.Ratios {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		want := bl.Ratios[name]
		row, ok := r.Row(name)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: not measured (baseline ratio %.3f)", name, want))
		case row.RatioCPU < want*(1-bl.Tolerance):
			out = append(out, fmt.Sprintf("%s: CPU ratio %.3f is %.0f%% below the baseline's %.3f (more than the %.0f%% allowed): "+
				"%.1f µs per request against the plain handler's %.1f (others %.2f cores, load %.2f)",
				name, row.RatioCPU, 100*(1-row.RatioCPU/want), want, 100*bl.Tolerance, row.ServerCPU, row.PlainCPU,
				row.OthersCPU, row.Load))
		}
	}
	return out
}

// Print writes the report as a table.
func Print(w io.Writer, r Report) {
	fmt.Fprintf(w, "benchcompare %s, %d CPUs, %s\n", r.When.Format("2006-01-02 15:04 UTC"), r.CPUs, r.Go)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure\tn\tserver/s\tplain/s\tratio/s\tserver µs\tplain µs\tratio cpu\tneighbour µs\tothers\tload\t")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%.1f\t%s\t%s\t%s\t%.2f\t%.2f\t\n", row.Name, row.Requests, row.ServerRPS,
			opt(row.PlainRPS, "%.0f"), opt(row.RatioRPS, "%.2f"), row.ServerCPU, opt(row.PlainCPU, "%.1f"),
			opt(row.RatioCPU, "%.2f"), opt(row.NeighbourCPU, "%.1f"), row.OthersCPU, row.Load)
	}
	_ = tw.Flush()
	for _, row := range r.Rows {
		if len(row.Extra) == 0 {
			continue
		}
		keys := make([]string, 0, len(row.Extra))
		for k := range row.Extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %.2f", k, row.Extra[k])
		}
		fmt.Fprintf(w, "  %s: %s\n", row.Name, strings.Join(parts, ", "))
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	fmt.Fprintln(w, "µs: CPU per request (per delivered message) of that process alone; ratio cpu = plain µs ÷ server µs;")
	fmt.Fprintln(w, "others: cores the rest of the machine used meanwhile; neighbour µs: the mock's CPU behind the sender.")
}

func opt(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// Recheck measures again, up to retries more times, the figures a run's
// check found below the baseline, and judges each of them by the median of
// its attempts (the first run's included): a figure that one noisy
// attempt pulled down passes once the others do not, a real regression
// fails every attempt. run measures a configuration (Run, in the
// command); only the failing mock cases are repeated, the sender only
// when one of its figures failed, without the headroom phase. It returns
// the report with the failing figures' rows replaced by their medians,
// and the check's lines on it.
func Recheck(r Report, bl Baseline, cfg Config, retries int, run func(Config) (Report, error)) (Report, []string, error) {
	bad := Check(r, bl)
	out := r
	attempts := map[string][]Row{}
	for try := 0; try < retries && len(bad) > 0; try++ {
		again := cfg
		again.Cases, again.Pace = []string{"none"}, 0
		again.Dir = filepath.Join(cfg.Dir, fmt.Sprintf("recheck%d", try+1))
		sender := false
		for _, line := range bad {
			name, _, _ := strings.Cut(line, ":")
			if c, ok := strings.CutPrefix(name, "mock/"); ok {
				again.Cases = append(again.Cases, c)
			} else {
				sender = true
			}
		}
		if !sender {
			again.Sender = ""
		}
		rep, err := run(again)
		if err != nil {
			return r, bad, err
		}
		for _, line := range bad {
			name, _, _ := strings.Cut(line, ":")
			if row, ok := rep.Row(name); ok {
				attempts[name] = append(attempts[name], row)
			}
		}
		merged := r
		merged.Rows = slices.Clone(r.Rows)
		for i, row := range merged.Rows {
			if more := attempts[row.Name]; len(more) > 0 {
				merged.Rows[i] = medianRow(append([]Row{row}, more...))
			}
		}
		merged.Notes = append(slices.Clone(r.Notes), fmt.Sprintf("re-measured after a failed check (%d more attempts): %s",
			try+1, strings.Join(slices.Sorted(maps.Keys(attempts)), ", ")))
		out = merged
		bad = Check(out, bl)
	}
	return out, bad, nil
}

// medianRow is the attempt whose CPU ratio is the median (the lower of
// the two middle ones for an even count), with every attempt's ratio in
// its extras.
func medianRow(rows []Row) Row {
	sorted := slices.Clone(rows)
	slices.SortFunc(sorted, func(a, b Row) int { return cmp.Compare(a.RatioCPU, b.RatioCPU) })
	m := sorted[(len(sorted)-1)/2]
	m.Extra = maps.Clone(m.Extra)
	if m.Extra == nil {
		m.Extra = map[string]float64{}
	}
	for i, row := range rows {
		m.Extra[fmt.Sprintf("attempt%d_ratio_cpu", i+1)] = row.RatioCPU
	}
	return m
}
