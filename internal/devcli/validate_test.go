package devcli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/cli"
)

const (
	repoTemplate = "../../template.yaml"
	repoASL      = "../../statemachine/failover.asl.json"
)

// The artefacts in the repository pass, with the example parameters.
func TestValidateRepositoryArtefacts(t *testing.T) {
	res := runCLI(t, "validate", "--template", repoTemplate, "--asl", repoASL, "--config", "testdata/cluster.json")
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	mustContain(t, "validate", res.stdout, "ok    template     "+repoTemplate, "checked with example values for",
		"ok    statemachine "+repoASL, "IntakeFunctionArn", "ok    config       testdata/cluster.json")
}

func TestValidateReportsEveryProblem(t *testing.T) {
	res := runCLI(t, "validate", "--template", "", "--asl", "testdata/dangling.asl.json",
		"--config", "testdata/cluster.json", "--config", "testdata/one-node.json", "--config", "testdata/missing.json")
	if res.code != cli.ExitFailure {
		t.Fatalf("exit %d, want %d\nstdout: %s", res.code, cli.ExitFailure, res.stdout)
	}
	mustContain(t, "validate", res.stdout,
		"FAIL  statemachine testdata/dangling.asl.json", `"Lease" does not exist`,
		"ok    config       testdata/cluster.json",
		"FAIL  config       testdata/one-node.json", "exactly 2 nodes, got 1", "configure at least one of overlayIp",
		"FAIL  config       testdata/missing.json", "testdata/missing.json does not exist")
	if strings.Contains(res.stdout, "template") {
		t.Errorf("--template \"\" still checked a template:\n%s", res.stdout)
	}
	mustContain(t, "stderr", res.stderr, "validate found 4 problem(s)")
}

// Given parameters are used as they are: a bad value and the missing ones
// are problems of the template check.
func TestValidateTemplateWithParameters(t *testing.T) {
	dir := t.TempDir()
	params := filepath.Join(dir, "params.json")
	if err := os.WriteFile(params, []byte(`[{"ParameterKey":"ClusterName","ParameterValue":"Bad_Name"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, "--output", "json", "validate", "--template", repoTemplate, "--asl", "",
		"--params", params, "--param", "FenceMode=explode")
	if res.code != cli.ExitFailure {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", res.code, cli.ExitFailure, res.stdout, res.stderr)
	}
	var doc struct {
		OK     bool
		Checks []struct {
			Kind     string
			Problems []string
		}
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("validate JSON: %v\n%s", err, res.stdout)
	}
	if doc.OK || len(doc.Checks) != 1 || doc.Checks[0].Kind != "template" {
		t.Fatalf("validate JSON = %+v", doc)
	}
	all := strings.Join(doc.Checks[0].Problems, "\n")
	mustContain(t, "template problems", all, "ClusterName", "FenceMode", "Node1InstanceId")
}

func TestValidateRejectsBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"validate", "--param", "ClusterName"}, `--param "ClusterName" is not KEY=VALUE`},
		{[]string{"validate", "--params", "testdata/missing.json"}, "--params"},
		{[]string{"validate", "--params", "testdata/dangling.asl.json"}, "neither a JSON object"},
		{[]string{"validate", "--template", "", "--asl", ""}, "nothing to check"},
	}
	for _, tc := range cases {
		res := runCLI(t, tc.args...)
		if res.code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want %d; stderr: %s", tc.args, res.code, cli.ExitUsage, res.stderr)
		}
		mustContain(t, "stderr", res.stderr, tc.want)
	}
}

// --write-definition writes what CloudFormation would hand Step Functions:
// every ${…} replaced by the template's DefinitionSubstitutions.
func TestValidateWritesTheSubstitutedDefinition(t *testing.T) {
	out := filepath.Join(t.TempDir(), "failover.asl.json")
	res := runCLI(t, "validate", "--template", repoTemplate, "--asl", "", "--write-definition", out)
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	mustContain(t, "validate", res.stdout, "DefinitionSubstitutions applied written to "+out)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) || strings.Contains(string(data), "${") {
		t.Fatalf("written definition is not substituted JSON:\n%s", data)
	}
	mustContain(t, "definition", string(data), `"Resource": "arn:aws:lambda:us-east-1:123456789012:function:switchyard-IntakeFunction:live"`)

	// A template with problems writes nothing and says so.
	bad := filepath.Join(t.TempDir(), "never.json")
	res = runCLI(t, "validate", "--template", repoTemplate, "--asl", "", "--param", "FenceMode=explode", "--write-definition", bad)
	if res.code != cli.ExitFailure {
		t.Fatalf("exit %d, want %d", res.code, cli.ExitFailure)
	}
	mustContain(t, "validate", res.stdout, "not written to "+bad)
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("%s was written for a template with problems (%v)", bad, err)
	}
}
