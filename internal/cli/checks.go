package cli

import (
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// checkStateMachineARN checks that s is a Step Functions state machine ARN
// (arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME) and returns its
// region.
func checkStateMachineARN(s string) (string, error) {
	const shape = "arn:aws:states:REGION:ACCOUNT:stateMachine:NAME"
	if s == "" {
		return "", usageErrorf("--state-machine-arn is required (%s)", shape)
	}
	parsed, err := arn.Parse(s)
	if err != nil {
		return "", usageErrorf("--state-machine-arn %q is not an ARN (%s)", s, shape)
	}
	name, ok := strings.CutPrefix(parsed.Resource, "stateMachine:")
	if parsed.Service != "states" || !ok || name == "" || strings.Contains(name, ":") {
		return "", usageErrorf("--state-machine-arn %q is not a state machine ARN (%s)", s, shape)
	}
	if parsed.Region == "" || parsed.AccountID == "" {
		return "", usageErrorf("--state-machine-arn %q names no region or account (%s)", s, shape)
	}
	return parsed.Region, nil
}

// executionNameForbidden are the characters Step Functions refuses in an
// execution name, besides whitespace and control characters.
const executionNameForbidden = `<>{}[]?*"#%\^|~` + "`" + `$&,;:/`

// checkExecutionName applies Step Functions' rules for execution names:
// 1 to 80 characters, no whitespace, brackets, wildcards, special or control
// characters. "" means no name (Step Functions generates one).
func checkExecutionName(name string) error {
	if name == "" {
		return nil
	}
	if n := len([]rune(name)); n > 80 {
		return usageErrorf("--name is %d characters long; Step Functions allows at most 80", n)
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(executionNameForbidden, r) {
			return usageErrorf("--name %q contains %q, which Step Functions does not allow in an execution name", name, r)
		}
	}
	return nil
}

// checkTableName applies DynamoDB's rules for table names: 3 to 255
// characters of a-z, A-Z, 0-9, '_', '-' and '.'.
// clusterTable is the table of cluster's record: --table when given, else
// the template's switchyard-<cluster>.
func clusterTable(table, cluster string) string {
	if table == "" {
		return "switchyard-" + strings.TrimSpace(cluster)
	}
	return table
}

func checkTableName(name string) error {
	if name == "" {
		return usageErrorf("--table is required: the DynamoDB table of the cluster record")
	}
	if len(name) < 3 || len(name) > 255 {
		return usageErrorf("--table %q: a DynamoDB table name has 3 to 255 characters", name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'
		if !ok {
			return usageErrorf("--table %q contains %q; DynamoDB table names use only a-z, A-Z, 0-9, '_', '-' and '.'", name, r)
		}
	}
	return nil
}

// checkCluster checks the --cluster flag.
func checkCluster(name string) error {
	if strings.TrimSpace(name) == "" {
		return usageErrorf("--cluster is required: the name of the cluster")
	}
	return nil
}
