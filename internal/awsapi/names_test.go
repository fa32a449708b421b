package awsapi

import (
	"strings"
	"testing"
)

func TestExecutionName(t *testing.T) {
	if got := ExecutionName("fastpath-demo-node1-t1-r5"); got != "fastpath-demo-node1-t1-r5" {
		t.Errorf("a valid name changed: %s", got)
	}
	if got := ExecutionName("arn:aws:states:x"); got != "arn-aws-states-x" {
		t.Errorf("invalid characters: %s", got)
	}
	a, b := ExecutionName(strings.Repeat("a", 100)+"1"), ExecutionName(strings.Repeat("a", 100)+"2")
	if len(a) != MaxExecutionName || a == b || a != ExecutionName(strings.Repeat("a", 100)+"1") {
		t.Errorf("long names: %q (%d) and %q: want %d characters, distinct, stable", a, len(a), b, MaxExecutionName)
	}
}
