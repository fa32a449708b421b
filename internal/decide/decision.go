package decide

import "fmt"

// Decision is what Assess concluded. Its String form is the state machine's
// contract: the ASL's Decision state matches exactly these strings.
type Decision uint8

// Decisions. The zero value is no decision, so a Verdict that forgot to set
// one cannot read as "proceed".
const (
	Undecided Decision = iota
	Proceed            // fail over now
	NoAction           // the primary is healthy from a second vantage point
	Refuse             // failing over would risk data or two primaries
)

var decisionNames = [...]string{
	Undecided: "undecided",
	Proceed:   "proceed",
	NoAction:  "no-failover-needed",
	Refuse:    "refuse",
}

// String returns the decision as the state machine spells it.
func (d Decision) String() string {
	if int(d) < len(decisionNames) {
		return decisionNames[d]
	}
	return fmt.Sprintf("Decision(%d)", uint8(d))
}

// MarshalText writes the decision as its String form, so a Verdict encoded
// to JSON reads as the state machine's contract.
func (d Decision) MarshalText() ([]byte, error) {
	if d == Undecided || int(d) >= len(decisionNames) {
		return nil, fmt.Errorf("decision %d has no contract name", uint8(d))
	}
	return []byte(d.String()), nil
}

// UnmarshalText parses a decision's contract name.
func (d *Decision) UnmarshalText(b []byte) error {
	for i, name := range decisionNames {
		if Decision(i) != Undecided && name == string(b) {
			*d = Decision(i)
			return nil
		}
	}
	return fmt.Errorf("unknown decision %q (want proceed, no-failover-needed or refuse)", b)
}
