package samtemplate

import (
	"fmt"
	"strings"
)

// Statement is one IAM policy statement.
type Statement struct {
	Effect    string // "Allow" or "Deny"
	Actions   []string
	Resources []string
	// Condition is the statement's Condition block, if any. Authorize
	// evaluates it; Allows does not.
	Condition map[string]any
}

// parsePolicies reads SAM's Policies property: a managed policy name, an
// inline policy document, a SAM policy template, or a list of those.
func parsePolicies(e *evaluator, v any, path string) ([]Statement, []string, error) {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	var (
		stmts   []Statement
		managed []string
	)
	for i, item := range items {
		at := fmt.Sprintf("%s[%d]", path, i)
		switch x := item.(type) {
		case string:
			managed = append(managed, x)
		case map[string]any:
			s, err := parsePolicy(e, x, at)
			if err != nil {
				return nil, nil, err
			}
			stmts = append(stmts, s...)
		default:
			return nil, nil, errf(at, "policy is a %s", kindOf(item))
		}
	}
	return stmts, managed, nil
}

func parsePolicy(e *evaluator, m map[string]any, path string) ([]Statement, error) {
	if raw, ok := m["Statement"]; ok {
		list, ok := raw.([]any)
		if !ok {
			list = []any{raw}
		}
		var out []Statement
		for i, s := range list {
			st, err := parseStatement(s, fmt.Sprintf("%s.Statement[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
		return out, nil
	}
	if len(m) == 1 {
		for name, arg := range m {
			return policyTemplate(e, name, arg, path+"."+name)
		}
	}
	return nil, errf(path, "policy is neither a policy document (Statement) nor a SAM policy template")
}

// policyTemplate expands the SAM policy templates samtemplate knows.
func policyTemplate(e *evaluator, name string, arg any, path string) ([]Statement, error) {
	params, _ := arg.(map[string]any)
	switch name {
	case "LambdaInvokePolicy":
		fn, err := scalarString(params["FunctionName"])
		if err != nil {
			return nil, errf(path+".FunctionName", "%v", err)
		}
		return []Statement{{
			Effect:  "Allow",
			Actions: []string{"lambda:InvokeFunction"},
			Resources: []string{fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s*",
				e.pseudo[PseudoPartition], e.pseudo[PseudoRegion], e.pseudo[PseudoAccountID], fn)},
		}}, nil
	}
	return nil, errf(path, "SAM policy template %s is not supported by samtemplate; write the statements out", name)
}

func parseStatement(v any, path string) (Statement, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Statement{}, errf(path, "statement is a %s, not a mapping", kindOf(v))
	}
	for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
		if _, ok := m[k]; ok {
			return Statement{}, errf(path+"."+k, "is not supported by samtemplate")
		}
	}
	r := &reader{m: m, path: path}
	st := Statement{
		Effect:    r.required("Effect"),
		Actions:   r.strList("Action"),
		Resources: r.strList("Resource"),
	}
	if c, ok := m["Condition"].(map[string]any); ok {
		st.Condition = c
	}
	if err := collect(r); err != nil {
		return Statement{}, err
	}
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return Statement{}, errf(path+".Effect", "%q is neither Allow nor Deny", st.Effect)
	}
	if len(st.Actions) == 0 {
		return Statement{}, errf(path+".Action", "missing")
	}
	return st, nil
}

// Allows reports whether the IAM policies of the function (or of the state
// machine) with the given logical id allow action, e.g. "ec2:ReplaceRoute":
// some Allow statement has a matching action pattern ("*" and "?"
// wildcards, case-insensitive, as IAM matches actions) and no Deny
// statement does. Resources, Conditions and managed policies are not
// considered (Authorize and Audit do); an unknown logical id allows
// nothing.
func (a *App) Allows(logicalID, action string) bool {
	var stmts []Statement
	switch {
	case a.Functions[logicalID] != nil:
		stmts = a.Functions[logicalID].Policies
	case a.StateMachine != nil && a.StateMachine.LogicalID == logicalID:
		stmts = a.StateMachine.Policies
	default:
		return false
	}
	allowed := false
	for _, st := range stmts {
		for _, pattern := range st.Actions {
			if !actionMatches(pattern, action) {
				continue
			}
			if st.Effect == "Deny" {
				return false
			}
			allowed = true
		}
	}
	return allowed
}

// actionMatches matches an IAM action against a pattern with * (any run
// of characters) and ? (one character), ignoring case.
func actionMatches(pattern, action string) bool {
	return wildcardMatch(strings.ToLower(pattern), strings.ToLower(action))
}

// iamPrefixes maps SigV4 signing names to IAM service prefixes where they
// differ. For the services Switchyard calls (ec2, route53, states,
// dynamodb, secretsmanager, lambda, sts) they are the same.
var iamPrefixes = map[string]string{
	"monitoring": "cloudwatch",
}

// IAMAction returns the IAM action of an API call identified the way the
// emulator's call log identifies it: the SigV4 signing name of the service
// and the operation name, e.g. ("monitoring", "GetMetricData") →
// "cloudwatch:GetMetricData", ("ec2", "ReplaceRoute") → "ec2:ReplaceRoute".
func IAMAction(signingName, operation string) string {
	prefix := strings.ToLower(signingName)
	if p, ok := iamPrefixes[prefix]; ok {
		prefix = p
	}
	return prefix + ":" + operation
}
