package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML as CI systems read it (the Ant/Surefire dialect): one test
// suite, one test case per threshold. A run without thresholds still
// writes one case, "run completed", so the file is never an empty suite
// that some CI readers reject.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  *cdata          `xml:"system-out,omitempty"`
}

// cdata keeps the text summary readable in the XML (newlines unescaped).
type cdata struct {
	Text string `xml:",cdata"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the thresholds as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	s := junitSuite{Name: "minipush loadtest " + r.Target, Time: fmt.Sprintf("%.3f", r.ElapsedS),
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05")}
	for _, p := range [][2]string{
		{"run_id", r.RunID}, {"target", r.Target}, {"platform", r.Platform}, {"mix", r.Mix},
		{"target_rate", fmt.Sprint(r.TargetRate)}, {"rate", fmt.Sprintf("%.1f", r.Rate)},
		{"load_average_start", loadavg(r.LoadAverageStart)}, {"load_average_end", loadavg(r.LoadAverageEnd)},
	} {
		s.Properties = append(s.Properties, junitProperty{Name: p[0], Value: p[1]})
	}
	for _, t := range r.Thresholds {
		c := junitCase{Name: t.Threshold, Classname: "loadtest.thresholds", Time: "0", SystemOut: t.Detail}
		if !t.Pass {
			s.Failures++
			c.Failure = &junitFailure{Message: t.Detail, Type: "threshold", Text: t.Detail}
		}
		s.Cases = append(s.Cases, c)
	}
	if len(s.Cases) == 0 {
		s.Cases = append(s.Cases, junitCase{Name: "run completed", Classname: "loadtest", Time: fmt.Sprintf("%.3f", r.ElapsedS)})
	}
	s.Tests = len(s.Cases)
	var text strings.Builder
	_ = r.WriteText(&text)
	s.SystemOut = &cdata{Text: text.String()}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
