package faulttable

import (
	"bytes"
	"strings"
	"testing"
)

const run = `{"Time":"2026-01-02T10:00:00Z","Action":"run","Package":"p","Test":"TestA"}
{"Time":"2026-01-02T10:00:01Z","Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:9: faultrow {\"case\":\"a\",\"expected\":\"e\",\"observed\":\"o | x\",\"acked\":3,\"lost\":0,\"dualWritableMs\":0}\n"}
{"Time":"2026-01-02T10:00:02Z","Action":"pass","Package":"p","Test":"TestA","Elapsed":2}
{"Time":"2026-01-02T10:00:00Z","Action":"run","Package":"p","Test":"TestB"}
{"Time":"2026-01-02T10:00:00Z","Action":"run","Package":"p","Test":"TestB/one"}
{"Time":"2026-01-02T10:00:01Z","Action":"output","Package":"p","Test":"TestB/one","Output":"    b_test.go:9: faultrow {\"case\":\"b1\",\"expected\":\"e\",\"observed\":\"o\",\"acked\":null,\"lost\":null,\"dualWritableMs\":12}\n"}
{"Time":"2026-01-02T10:00:03Z","Action":"fail","Package":"p","Test":"TestB/one","Elapsed":3}
{"Time":"2026-01-02T10:00:00Z","Action":"run","Package":"p","Test":"TestB/two"}
{"Time":"2026-01-02T10:00:03Z","Action":"pass","Package":"p","Test":"TestB/two","Elapsed":3}
{"Time":"2026-01-02T10:00:03Z","Action":"fail","Package":"p","Test":"TestB","Elapsed":3}
not json: a stray line
{"Time":"2026-01-02T10:00:04Z","Action":"fail","Package":"p","Elapsed":4}
`

func TestReadPairsRowsWithResults(t *testing.T) {
	rep, err := Read(strings.NewReader(run), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Cases) != 3 {
		t.Fatalf("%d cases, want 3 (parents are not cases): %+v", len(rep.Cases), rep.Cases)
	}
	want := map[string]string{"TestA": "PASS", "TestB/one": "FAIL", "TestB/two": "FAIL (no row)"}
	for _, c := range rep.Cases {
		if c.Verdict() != want[c.Test] {
			t.Errorf("%s: verdict %q, want %q", c.Test, c.Verdict(), want[c.Test])
		}
	}
	if got := len(rep.Failed()); got != 2 {
		t.Errorf("Failed() = %v, want the two failed cases", rep.Failed())
	}
	var text, md bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"CASE", "b1", "12", "3 cases, 1 passed, 2 failed; run took 4s"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text table lacks %q:\n%s", s, text.String())
		}
	}
	if err := rep.WriteMarkdown(&md, "make faults"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), `| a | e | o \| x | 3 | 0 | 0 | PASS | `+"`TestA`"+` |`) {
		t.Errorf("markdown row of TestA wrong:\n%s", md.String())
	}
	if !strings.Contains(md.String(), "| b1 | e | o | - | - | 12 | FAIL |") {
		t.Errorf("markdown row of TestB/one wrong:\n%s", md.String())
	}
}

func TestMainExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main(strings.NewReader(""), &out, &errOut, "", "make faults"); code != 1 {
		t.Errorf("empty input: exit %d, want 1 (no case ran)", code)
	}
	pass := strings.Join(strings.Split(run, "\n")[:3], "\n")
	if code := Main(strings.NewReader(pass), &out, &errOut, "", "make faults"); code != 0 {
		t.Errorf("one passing case: exit %d, want 0; %s", code, errOut.String())
	}
	if code := Main(strings.NewReader(run), &out, &errOut, "", "make faults"); code != 1 {
		t.Errorf("failing cases: exit %d, want 1", code)
	}
}
