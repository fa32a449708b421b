package samtemplate

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// samconfig.toml.example deploys: its parameter_overrides are every
// required parameter, each valid, and the template checks out with them.
func TestSamconfigExampleParametersValidate(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "samconfig.toml.example"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^parameter_overrides = "(.*)"$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("samconfig.toml.example has no parameter_overrides = \"…\" line")
	}
	// SAM's format: Key=Value pairs separated by spaces; a value with
	// commas or spaces is in \"…\" (escaped quotes inside the TOML string).
	params := map[string]string{}
	for _, kv := range regexp.MustCompile(`(\w+)=(\\"[^"\\]*\\"|\S+)`).FindAllStringSubmatch(string(m[1]), -1) {
		params[kv[1]] = strings.TrimSuffix(strings.TrimPrefix(kv[2], `\"`), `\"`)
	}
	if len(params) == 0 {
		t.Fatal("no parameters parsed")
	}
	if errs := Validate(realTemplate, params); len(errs) > 0 {
		t.Fatalf("Validate with samconfig.toml.example's parameters:\n%s", errorsText(errs))
	}
	if got := params["LambdaSubnetIds"]; !strings.Contains(got, ",") {
		t.Errorf("LambdaSubnetIds = %q, want the quoted list of two subnets", got)
	}
}
