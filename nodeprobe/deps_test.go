package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The agent links only the AWS services it calls: every SDK package a Go
// binary imports is linked with its initialisers and costs the agent
// resident memory on every node (docs/benchmarks.md). Route 53, Secrets
// Manager and SNS belong to the Lambdas and the CLI (package awsall), the
// emulator to the tests.
func TestAgentLinksOnlyTheServicesItCalls(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps gave %d packages: %q", len(deps), out)
	}
	for _, p := range deps {
		for _, banned := range []string{"/service/route53", "/service/secretsmanager", "/service/sns",
			"/internal/awsapi/awsall", "/internal/localaws", "/internal/localstack"} {
			if strings.HasSuffix(p, banned) || strings.Contains(p, banned+"/") {
				t.Errorf("nodeprobe links %s", p)
			}
		}
	}
}
