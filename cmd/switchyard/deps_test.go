package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The operator's binary links none of the development machinery: not the
// AWS emulator, the ASL interpreter, the PostgreSQL harness, the local
// stack, the demo or the template evaluator.
func TestOperatorBinaryLeavesOutTheLocalStack(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const mod = "github.com/switchyard/switchyard/internal/"
	forbidden := []string{"localaws", "asl", "pgharness", "localstack", "demo", "samtemplate", "devcli", "dataplane"}
	var linked []string
	for _, pkg := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if pkg == mod+f || strings.HasPrefix(pkg, mod+f+"/") {
				linked = append(linked, pkg)
			}
		}
	}
	if len(linked) > 0 {
		t.Errorf("cmd/switchyard links %v", linked)
	}
	if !strings.Contains(string(out), mod+"cli\n") {
		t.Errorf("cmd/switchyard does not link internal/cli:\n%s", out)
	}
}
