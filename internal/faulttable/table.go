package faulttable

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// RowMarker starts the log line a case reports its row with.
const RowMarker = "faultrow "

// Row is what one case reports. Acked and Lost are nil when the case has
// no client writing.
type Row struct {
	Case           string `json:"case"`
	Expected       string `json:"expected"`
	Observed       string `json:"observed"`
	Acked          *int   `json:"acked"`
	Lost           *int   `json:"lost"`
	DualWritableMs int64  `json:"dualWritableMs"`
}

// Case is one case: its test, its row (nil when it logged none) and the
// test's outcome ("pass", "fail", "skip", or "" when it never ended).
type Case struct {
	Test    string
	Row     *Row
	Outcome string
	Elapsed time.Duration
	// Log is the case's last test log lines (t.Log, t.Error), printed
	// when it fails.
	Log []string
}

// maxLog bounds Case.Log.
const maxLog = 20

// Verdict is PASS only for a passed test that reported its row.
func (c Case) Verdict() string {
	switch {
	case c.Outcome == "pass" && c.Row != nil:
		return "PASS"
	case c.Outcome == "pass":
		return "FAIL (no row)"
	case c.Outcome == "":
		return "FAIL (did not end)"
	default:
		return strings.ToUpper(c.Outcome)
	}
}

// Passed reports whether the case counts as passed.
func (c Case) Passed() bool { return c.Verdict() == "PASS" }

// Report is a whole run.
type Report struct {
	Cases          []Case
	Start, End     time.Time
	FailedPackages []string // packages whose run failed (build errors, a failed parent test)
	FailedParents  []string // tests with subtests that failed themselves
}

// event is one line of `go test -json` (test2json).
type event struct {
	Time    time.Time `json:"Time"`
	Action  string    `json:"Action"`
	Package string    `json:"Package"`
	Test    string    `json:"Test"`
	Elapsed float64   `json:"Elapsed"`
	Output  string    `json:"Output"`
}

// Read parses `go test -json` output. Lines that are not JSON events (a
// build error printed as text) are ignored; a run whose package did not
// pass shows in FailedPackages. progress, when not nil, gets a line for
// every test that ends.
func Read(r io.Reader, progress io.Writer) (*Report, error) {
	rep := &Report{}
	tests := map[string]*Case{}
	var order []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			continue
		}
		if !e.Time.IsZero() {
			if rep.Start.IsZero() || e.Time.Before(rep.Start) {
				rep.Start = e.Time
			}
			if e.Time.After(rep.End) {
				rep.End = e.Time
			}
		}
		if e.Test == "" {
			if e.Action == "fail" {
				rep.FailedPackages = append(rep.FailedPackages, e.Package)
			}
			continue
		}
		c, ok := tests[e.Test]
		if !ok {
			c = &Case{Test: e.Test}
			tests[e.Test] = c
			order = append(order, e.Test)
		}
		switch e.Action {
		case "output":
			if strings.Contains(e.Output, "_test.go:") && !strings.Contains(e.Output, RowMarker) {
				c.Log = append(c.Log, strings.TrimRight(e.Output, "\n"))
				if len(c.Log) > maxLog {
					c.Log = c.Log[len(c.Log)-maxLog:]
				}
			}
			if i := strings.Index(e.Output, RowMarker); i >= 0 && c.Row == nil {
				var row Row
				if err := json.Unmarshal([]byte(strings.TrimSpace(e.Output[i+len(RowMarker):])), &row); err != nil {
					return nil, fmt.Errorf("test %s: bad row %q: %w", e.Test, e.Output, err)
				}
				c.Row = &row
			}
		case "pass", "fail", "skip":
			c.Outcome = e.Action
			c.Elapsed = time.Duration(e.Elapsed * float64(time.Second))
			if progress != nil {
				fmt.Fprintf(progress, "%-4s %s (%.1fs)\n", strings.ToUpper(e.Action), e.Test, e.Elapsed)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, name := range order {
		c := tests[name]
		if hasSubtests(name, order) {
			if c.Outcome == "fail" && !anySubtestFailed(name, tests) {
				rep.FailedParents = append(rep.FailedParents, name)
			}
			continue
		}
		rep.Cases = append(rep.Cases, *c)
	}
	sort.SliceStable(rep.Cases, func(i, j int) bool { return rep.Cases[i].Test < rep.Cases[j].Test })
	return rep, nil
}

func hasSubtests(name string, all []string) bool {
	for _, o := range all {
		if strings.HasPrefix(o, name+"/") {
			return true
		}
	}
	return false
}

func anySubtestFailed(name string, tests map[string]*Case) bool {
	for n, c := range tests {
		if strings.HasPrefix(n, name+"/") && c.Outcome == "fail" {
			return true
		}
	}
	return false
}

// Failed lists what makes the run fail: failed cases, failed parents,
// failed packages, or no case at all.
func (r *Report) Failed() []string {
	var out []string
	for _, c := range r.Cases {
		if !c.Passed() {
			out = append(out, c.Test+": "+c.Verdict())
		}
	}
	for _, p := range r.FailedParents {
		out = append(out, p+": FAIL (outside its subtests)")
	}
	if len(r.Cases) == 0 {
		out = append(out, "no case ran")
	}
	if len(out) == 0 {
		for _, p := range r.FailedPackages {
			out = append(out, p+": package FAIL")
		}
	}
	return out
}

var header = []string{"case", "expected", "observed", "acked", "lost", "ms 2 writable", "verdict", "test"}

func (c Case) cells() []string {
	row := Row{Case: c.Test, Expected: "?", Observed: "(no row)"}
	dual := "?"
	if c.Row != nil {
		row = *c.Row
		dual = strconv.FormatInt(row.DualWritableMs, 10)
	}
	return []string{row.Case, row.Expected, row.Observed, count(row.Acked), count(row.Lost), dual, c.Verdict(), c.Test}
}

func count(n *int) string {
	if n == nil {
		return "-"
	}
	return strconv.Itoa(*n)
}

// WriteText writes the aligned table and a summary line.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(upper(header), "\t"))
	for _, c := range r.Cases {
		fmt.Fprintln(tw, strings.Join(c.cells(), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, r.summary())
	return err
}

func upper(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToUpper(v)
	}
	return out
}

func (r *Report) summary() string {
	passed := 0
	for _, c := range r.Cases {
		if c.Passed() {
			passed++
		}
	}
	s := fmt.Sprintf("%d cases, %d passed, %d failed", len(r.Cases), passed, len(r.Cases)-passed)
	if !r.Start.IsZero() {
		s += fmt.Sprintf("; run took %s", r.End.Sub(r.Start).Round(time.Second))
	}
	return s
}

// WriteMarkdown writes docs/faults.md: the command, the date of the run,
// the table and the summary.
func (r *Report) WriteMarkdown(w io.Writer, command string) error {
	var b strings.Builder
	b.WriteString("# Fault matrix\n\n")
	fmt.Fprintf(&b, "Produced by `%s` on %s (%s). Each row is a test in `internal/localstack` "+
		"(`make test` runs them too); `-` means the case has no client writing. "+
		"\"ms 2 writable\" is the time a monitor polling `pg_is_in_recovery()` on both nodes every 25 ms saw both writable.\n\n",
		command, r.Start.UTC().Format("2006-01-02 15:04 MST"), r.summary())
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat(" --- |", len(header)) + "\n")
	for _, c := range r.Cases {
		cells := c.cells()
		for i, v := range cells {
			cells[i] = strings.ReplaceAll(v, "|", `\|`)
		}
		cells[len(cells)-1] = "`" + cells[len(cells)-1] + "`"
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Main is the command: read stdin, print the table (and write the
// Markdown file when markdown is not empty), and return the exit code: 0
// when every case passed, 1 otherwise, 2 when the input cannot be read.
func Main(in io.Reader, out, errOut io.Writer, markdown, command string) int {
	rep, err := Read(in, errOut)
	if err != nil {
		fmt.Fprintln(errOut, "faulttable:", err)
		return 2
	}
	if err := rep.WriteText(out); err != nil {
		fmt.Fprintln(errOut, "faulttable:", err)
		return 2
	}
	if markdown != "" {
		f, err := os.Create(markdown)
		if err == nil {
			err = rep.WriteMarkdown(f, command)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(errOut, "faulttable:", err)
			return 2
		}
	}
	if failed := rep.Failed(); len(failed) > 0 {
		fmt.Fprintln(errOut, "fault matrix FAILED:\n  "+strings.Join(failed, "\n  "))
		for _, c := range rep.Cases {
			if !c.Passed() && len(c.Log) > 0 {
				fmt.Fprintf(errOut, "%s said:\n%s\n", c.Test, strings.Join(c.Log, "\n"))
			}
		}
		return 1
	}
	return 0
}
