package decide

import (
	"encoding/json"
	"testing"
)

// The state machine's Decision state matches these exact strings.
func TestDecisionContractNames(t *testing.T) {
	for d, want := range map[Decision]string{Proceed: "proceed", NoAction: "no-failover-needed", Refuse: "refuse"} {
		if d.String() != want {
			t.Errorf("%d.String() = %q, want %q", d, d.String(), want)
		}
		b, err := json.Marshal(d)
		if err != nil || string(b) != `"`+want+`"` {
			t.Errorf("json.Marshal(%s) = %s, %v", want, b, err)
		}
		var back Decision
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Errorf("json.Unmarshal(%s) = %v, %v", b, back, err)
		}
	}
	if _, err := json.Marshal(Undecided); err == nil {
		t.Error("an undecided verdict must not encode as a decision")
	}
	var d Decision
	if err := json.Unmarshal([]byte(`"maybe"`), &d); err == nil {
		t.Error("an unknown decision must not parse")
	}
	if s := Decision(9).String(); s != "Decision(9)" {
		t.Errorf("Decision(9).String() = %q", s)
	}
}
