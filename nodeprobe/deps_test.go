package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The agent links only the AWS services it calls: every SDK package a Go
// binary imports is linked with its initialisers and costs the agent
// resident memory on every node (docs/benchmarks.md). Route 53, Secrets
// Manager and SNS belong to the Lambdas and the CLI (package awsall), the
// emulator to the tests.
func TestAgentLinksOnlyTheServicesItCalls(t *testing.T) {
	for _, p := range goList(t, "{{.ImportPath}}") {
		for _, banned := range []string{"/service/route53", "/service/secretsmanager", "/service/sns",
			"/internal/awsapi/awsall", "/internal/localaws", "/internal/localstack"} {
			if strings.HasSuffix(p, banned) || strings.Contains(p, banned+"/") {
				t.Errorf("nodeprobe links %s", p)
			}
		}
	}
}

// The agent builds its AWS configuration itself (awsconfig.go): the SDK's
// config package would link the STS, SSO, SSO-OIDC and Sign-In clients, the
// credential providers that call them and the shared config parser, with
// their initialisers (their endpoint and schema tables), for credential
// sources the agent does not use. So none of these packages may be linked,
// not even imported and unused: LocalConfig, the tests' and the local
// stack's options, is in package awsall for that reason.
func TestAgentDoesNotLinkTheSDKCredentialChain(t *testing.T) {
	bannedPkgs := map[string]bool{}
	for _, p := range []string{"config", "internal/ini",
		"service/sts", "service/sso", "service/ssooidc", "service/signin",
		"credentials/stscreds", "credentials/ssocreds", "credentials/processcreds",
		"credentials/endpointcreds", "credentials/logincreds"} {
		bannedPkgs["github.com/aws/aws-sdk-go-v2/"+p] = true
	}
	for _, line := range goList(t, `{{.ImportPath}}:{{join .Imports ","}}`) {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Split(imports, ",") {
			if bannedPkgs[imp] {
				t.Errorf("%s imports %s: the agent would link the SDK's credential chain", pkg, imp)
			}
		}
	}
	if testing.Short() {
		t.Skip("building the agent to read its symbols")
	}
	goTool := goCommand(t)
	bin := filepath.Join(t.TempDir(), "nodeprobe")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(goTool, "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	// Any symbol of those packages, their initialisers included: a second
	// check, on what the linker kept, of the import check above.
	banned := regexp.MustCompile(`aws-sdk-go-v2/(config|internal/ini|service/(sts|sso|ssooidc|signin)|` +
		`credentials/(stscreds|ssocreds|processcreds|endpointcreds|logincreds))\.`)
	seen := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if m := banned.FindStringSubmatch(line); m != nil && !seen[m[1]] {
			seen[m[1]] = true
			t.Errorf("nodeprobe links github.com/aws/aws-sdk-go-v2/%s", m[1])
		}
	}
	if !strings.Contains(string(out), "aws-sdk-go-v2/credentials/ec2rolecreds.(*Provider).Retrieve") {
		t.Error("nodeprobe does not link the instance role provider (ec2rolecreds); is the symbol check reading the right binary?")
	}
}

func goCommand(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command: %v", err)
	}
	return goTool
}

// goList is `go list -deps -f format .`, one line per package.
func goList(t *testing.T, format string) []string {
	t.Helper()
	out, err := exec.Command(goCommand(t), "list", "-deps", "-f", format, ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps gave %d packages: %q", len(deps), out)
	}
	return deps
}
