package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/minipush/minipush/loadtest/stats"
)

// WriteHTML writes a self-contained page: the text summary, the
// thresholds, and an inline SVG of p50, p99 and max latency per timeline
// bucket, with the request rate underneath. No scripts, fonts, styles or
// images are fetched: the page can be archived as a CI artifact and opened
// offline.
func (r *Report) WriteHTML(w io.Writer) error {
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		return err
	}
	verdict := "PASS"
	switch {
	case len(r.Thresholds) == 0:
		verdict = "NO THRESHOLDS"
	case !r.Passed:
		verdict = "FAIL"
	}
	return page.Execute(w, map[string]any{
		"R": r, "Text": text.String(), "Verdict": verdict,
		"Latency": template.HTML(latencySVG(r.Timeline, r.Steps, r.BucketS)),
		"Rate":    template.HTML(rateSVG(r.Timeline, r.BucketS)),
	})
}

// Plot geometry (SVG user units).
const (
	plotW, plotH         = 900.0, 320.0
	padL, padR           = 64.0, 16.0
	padT, padB           = 16.0, 36.0
	innerW, innerH       = plotW - padL - padR, plotH - padT - padB
	rateH                = 160.0
	rateInnerH           = rateH - padT - padB
	seriesP50, seriesP99 = "#2b7bb9", "#d9822b"
	seriesMax            = "#b8323a"
)

// niceCeil rounds v up to a round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5,
// 6 or 8 times a power of ten), so a plot's top is close to its data.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// tickStep rounds v up to 1, 2 or 5 times a power of ten.
func tickStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// stepMarks draws a dashed line and the target rate at the start of each
// schedule step, so a latency change can be read against the load.
func stepMarks(b *strings.Builder, steps []Step, points []stats.Point, bucket, innerHeight float64) {
	end := float64(len(points)) * bucket
	if end <= 0 || len(steps) < 2 {
		return
	}
	at := 0.0
	for _, s := range steps {
		x := padL + at/end*innerW
		label := "max"
		if s.TargetRate > 0 {
			label = fmt.Sprintf("%g/s", s.TargetRate)
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#999" stroke-dasharray="4 3"/><text x="%.1f" y="%g">%s</text>`,
			x, padT, x, padT+innerHeight, x+4, padT+22, label)
		at += s.DurationS
	}
}

func axisX(b *strings.Builder, points []stats.Point, bucket, h, innerHeight float64) {
	end := float64(len(points)) * bucket
	if end <= 0 {
		end = 1
	}
	fmt.Fprintf(b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#888"/>`, padL, padT+innerHeight, padL+innerW, padT+innerHeight)
	step := tickStep(end / 8)
	for t := 0.0; t <= end+1e-9; t += step {
		x := padL + t/end*innerW
		fmt.Fprintf(b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#888"/><text x="%.1f" y="%g" text-anchor="middle">%gs</text>`,
			x, padT+innerHeight, x, padT+innerHeight+4, x, h-padB/2+4, t)
	}
}

func polyline(b *strings.Builder, points []stats.Point, bucket, top, innerHeight, yMax float64, color string, value func(stats.Point) float64) {
	end := float64(len(points)) * bucket
	var pts []string
	for i, p := range points {
		if p.Requests == 0 {
			continue
		}
		x := padL + (float64(i)+0.5)*bucket/end*innerW
		y := top + innerHeight - math.Min(value(p), yMax)/yMax*innerHeight
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
	}
	if len(pts) == 0 {
		return
	}
	fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, color, strings.Join(pts, " "))
}

// latencySVG plots latency per bucket on a linear scale up to the largest
// max (rounded up).
func latencySVG(points []stats.Point, steps []Step, bucket float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="latency over time">`, plotW, plotH, plotW, plotH)
	b.WriteString(`<style>text{font:11px sans-serif;fill:#333}</style>`)
	yMax := 0.0
	for _, p := range points {
		yMax = math.Max(yMax, p.Max)
	}
	yMax = niceCeil(yMax)
	for i := 0; i <= 4; i++ {
		v := yMax * float64(i) / 4
		y := padT + innerH - float64(i)/4*innerH
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#eee"/><text x="%g" y="%.1f" text-anchor="end">%gms</text>`,
			padL, y, padL+innerW, y, padL-6, y+4, v)
	}
	axisX(&b, points, bucket, plotH, innerH)
	stepMarks(&b, steps, points, bucket, innerH)
	if len(points) > 0 {
		polyline(&b, points, bucket, padT, innerH, yMax, seriesMax, func(p stats.Point) float64 { return p.Max })
		polyline(&b, points, bucket, padT, innerH, yMax, seriesP99, func(p stats.Point) float64 { return p.P99 })
		polyline(&b, points, bucket, padT, innerH, yMax, seriesP50, func(p stats.Point) float64 { return p.P50 })
	}
	for i, s := range []struct{ name, color string }{{"p50", seriesP50}, {"p99", seriesP99}, {"max", seriesMax}} {
		x := padL + 10 + float64(i)*70
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="12" height="3" fill="%s"/><text x="%g" y="%g">%s</text>`, x, padT+2, s.color, x+16, padT+6, s.name)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// rateSVG draws requests per second per bucket as bars, errors in red.
func rateSVG(points []stats.Point, bucket float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="request rate over time">`, plotW, rateH, plotW, rateH)
	b.WriteString(`<style>text{font:11px sans-serif;fill:#333}</style>`)
	if bucket <= 0 {
		bucket = 1
	}
	yMax := 0.0
	for _, p := range points {
		yMax = math.Max(yMax, float64(p.Requests)/bucket)
	}
	yMax = niceCeil(yMax)
	for i := 0; i <= 2; i++ {
		v := yMax * float64(i) / 2
		y := padT + rateInnerH - float64(i)/2*rateInnerH
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#eee"/><text x="%g" y="%.1f" text-anchor="end">%g/s</text>`,
			padL, y, padL+innerW, y, padL-6, y+4, v)
	}
	if n := len(points); n > 0 {
		w := innerW / float64(n)
		for i, p := range points {
			x := padL + float64(i)*w
			h := float64(p.Requests) / bucket / yMax * rateInnerH
			eh := float64(p.Errors) / bucket / yMax * rateInnerH
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#9bbcd9"/>`, x, padT+rateInnerH-h, math.Max(w-1, 0.5), h)
			if eh > 0 {
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#b8323a"/>`, x, padT+rateInnerH-eh, math.Max(w-1, 0.5), eh)
			}
		}
	}
	axisX(&b, points, bucket, rateH, rateInnerH)
	b.WriteString(`</svg>`)
	return b.String()
}

var page = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>minipush load run {{.R.RunID}}: {{.Verdict}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:960px}
h1{font-size:1.4em}.PASS{color:#1a7f37}.FAIL{color:#b8323a}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:12px}
</style></head><body>
<h1>minipush load run <code>{{.R.RunID}}</code>: <span class="{{.Verdict}}">{{.Verdict}}</span></h1>
<p>{{.R.Target}} → {{.R.Platform}}{{if .R.Self}} (self-contained){{end}}, started {{.R.Started.Format "2006-01-02 15:04:05 MST"}},
mix <code>{{.R.Mix}}</code>, achieved {{printf "%.1f" .R.Rate}}/s (target {{if .R.TargetRate}}{{.R.TargetRate}}/s{{else}}max{{end}}),
{{.R.Requests}} requests. Load average at start {{range .R.LoadAverageStart}}{{printf "%.2f " .}}{{end}}on {{.R.CPUs}} CPUs.</p>
{{if .R.Thresholds}}<table><tr><th>threshold</th><th>result</th><th>detail</th></tr>
{{range .R.Thresholds}}<tr><td><code>{{.Threshold}}</code></td><td class="{{if .Pass}}PASS{{else}}FAIL{{end}}">{{if .Pass}}pass{{else}}FAIL{{end}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>{{end}}
<h2>Latency over time</h2>
<p>Per {{.R.BucketS}}s bucket, by when the request left.</p>
{{.Latency}}
<h2>Requests per second</h2>
{{.Rate}}
<h2>Summary</h2>
<pre>{{.Text}}</pre>
</body></html>
`))
