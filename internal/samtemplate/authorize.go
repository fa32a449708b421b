package samtemplate

import (
	"fmt"
	"sort"
	"strings"
)

// Request is one API call as IAM authorizes it.
type Request struct {
	// Principal is the logical id whose policies apply: a function, the
	// state machine, or a managed policy (the node agents' instance
	// profile).
	Principal string
	// Action is the IAM action, e.g. "ec2:StopInstances" (see IAMAction).
	Action string
	// Resources are the ARNs the call touches; IAM authorizes each. None
	// means the action has no resource-level permissions: only a
	// statement whose Resource is "*" can allow it.
	Resources []string
	// Context holds the request's condition keys and their values.
	Context map[string][]string
}

func (r Request) String() string {
	s := r.Principal + " " + r.Action
	if len(r.Resources) > 0 {
		s += " on " + strings.Join(r.Resources, ", ")
	}
	if len(r.Context) > 0 {
		var kv []string
		for _, k := range sortedKeys(r.Context) {
			kv = append(kv, k+"="+strings.Join(r.Context[k], "|"))
		}
		s += " with " + strings.Join(kv, " ")
	}
	return s
}

// statements returns the IAM statements of a principal.
func (a *App) statements(principal string) ([]Statement, bool) {
	switch {
	case a.Functions[principal] != nil:
		return a.Functions[principal].Policies, true
	case a.ManagedPolicies[principal] != nil:
		return a.ManagedPolicies[principal].Statements, true
	case a.StateMachine != nil && a.StateMachine.LogicalID == principal:
		return a.StateMachine.Policies, true
	}
	return nil, false
}

// grant is one action pattern × resource pattern of one Allow statement.
type grant struct {
	principal string
	stmt      int
	action    string
	resource  string
}

func (g grant) String() string {
	return fmt.Sprintf("%s statement %d: %s on %s", g.principal, g.stmt, g.action, g.resource)
}

// Authorize evaluates req as IAM evaluates an identity policy: each
// resource must be allowed by a statement whose action, resource (with *
// and ? wildcards) and conditions match, and denied by none. It returns
// nil when allowed, else an error naming what is missing. Managed policy
// ARNs attached to functions are not looked into.
func (a *App) Authorize(req Request) error {
	_, err := a.authorize(req)
	return err
}

func (a *App) authorize(req Request) ([]grant, error) {
	stmts, ok := a.statements(req.Principal)
	if !ok {
		return nil, fmt.Errorf("%s: no such function, state machine or managed policy in the template", req)
	}
	resources := req.Resources
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var used []grant
	for _, res := range resources {
		var allowedBy []grant
		var condFailures []string
		for i, st := range stmts {
			for _, ap := range st.Actions {
				if !actionMatches(ap, req.Action) {
					continue
				}
				for _, rp := range resourcePatterns(st) {
					if !resourceMatches(rp, res) {
						continue
					}
					ok, why := conditionsMatch(st.Condition, req.Context)
					if !ok {
						condFailures = append(condFailures, fmt.Sprintf("statement %d: %s", i, why))
						continue
					}
					if st.Effect == "Deny" {
						return nil, fmt.Errorf("%s: explicitly denied by statement %d", req, i)
					}
					allowedBy = append(allowedBy, grant{req.Principal, i, ap, rp})
				}
			}
		}
		if len(allowedBy) == 0 {
			msg := fmt.Sprintf("%s: no statement allows %s on %s", req, req.Action, res)
			if len(condFailures) > 0 {
				msg += " (conditions not met: " + strings.Join(condFailures, "; ") + ")"
			}
			return nil, fmt.Errorf("%s", msg)
		}
		used = append(used, allowedBy...)
	}
	return used, nil
}

func resourcePatterns(st Statement) []string {
	if len(st.Resources) == 0 {
		return []string{"*"}
	}
	return st.Resources
}

// resourceMatches matches an ARN against a Resource pattern: * and ?
// wildcards, case-sensitive as IAM compares ARNs. A request resource of
// "*" (an action without resource-level permissions) matches only "*".
func resourceMatches(pattern, arn string) bool {
	if arn == "*" {
		return pattern == "*"
	}
	return wildcardMatch(pattern, arn)
}

// conditionsMatch evaluates a statement's Condition block against the
// request context: every operator and key must match. Supported operators:
// StringEquals, StringLike, StringEqualsIgnoreCase, ArnEquals, ArnLike,
// with the ForAllValues:/ForAnyValue: set prefixes and the IfExists suffix.
func conditionsMatch(cond map[string]any, ctx map[string][]string) (bool, string) {
	for _, op := range sortedKeys(cond) {
		keys, ok := cond[op].(map[string]any)
		if !ok {
			return false, fmt.Sprintf("condition %s is not a mapping", op)
		}
		for _, key := range sortedKeys(keys) {
			want, err := toStringList(keys[key])
			if err != nil {
				return false, fmt.Sprintf("condition %s %s: %v", op, key, err)
			}
			got, present := ctx[key]
			if ok, why := conditionMatches(op, want, got, present); !ok {
				return false, fmt.Sprintf("%s %s %v: %s", op, key, want, why)
			}
		}
	}
	return true, ""
}

func conditionMatches(op string, want, got []string, present bool) (bool, string) {
	set := ""
	if s, rest, ok := strings.Cut(op, ":"); ok {
		set, op = s, rest
	}
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")
	var match func(pattern, value string) bool
	switch op {
	case "StringEquals", "ArnEquals":
		match = func(p, v string) bool { return p == v }
	case "StringEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringLike", "ArnLike":
		match = wildcardMatch
	default:
		return false, "operator not supported by samtemplate"
	}
	matchesAny := func(v string) bool {
		for _, p := range want {
			if match(p, v) {
				return true
			}
		}
		return false
	}
	switch set {
	case "ForAllValues":
		// IAM: true when the key is absent, else every value must match.
		for _, v := range got {
			if !matchesAny(v) {
				return false, fmt.Sprintf("request value %q not allowed", v)
			}
		}
		return true, ""
	case "ForAnyValue", "":
		if !present {
			if ifExists {
				return true, ""
			}
			return false, "the request has no such key"
		}
		for _, v := range got {
			if matchesAny(v) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("request values %v", got)
	}
	return false, "set operator " + set + " not supported by samtemplate"
}

// wildcardMatch matches s against a pattern with * and ?, case-sensitively.
func wildcardMatch(pattern, s string) bool {
	p := pattern
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// Audit checks a run's requests against the template's policies and
// remembers which grants they used, so grants never used can be listed.
// Not safe for concurrent use.
type Audit struct {
	app    *App
	used   map[grant]bool
	denied []error
}

// NewAudit starts an audit of the template's policies.
func (a *App) NewAudit() *Audit { return &Audit{app: a, used: map[grant]bool{}} }

// Check authorizes req, records the grants that allowed it, and returns
// the denial, if any (also kept for Denied).
func (au *Audit) Check(req Request) error {
	used, err := au.app.authorize(req)
	if err != nil {
		au.denied = append(au.denied, err)
		return err
	}
	for _, g := range used {
		au.used[g] = true
	}
	return nil
}

// Denied returns every denial so far.
func (au *Audit) Denied() []error { return au.denied }

// Unused lists, for the given principals, every Allow grant (statement ×
// action pattern × resource pattern) that no checked request used.
func (au *Audit) Unused(principals ...string) []string {
	var out []string
	for _, p := range principals {
		stmts, _ := au.app.statements(p)
		for i, st := range stmts {
			if st.Effect != "Allow" {
				continue
			}
			for _, ap := range st.Actions {
				for _, rp := range resourcePatterns(st) {
					if g := (grant{p, i, ap, rp}); !au.used[g] {
						out = append(out, g.String())
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// CallItem is one item of a DynamoDB transaction as the local stack's call
// log records it (localaws.ItemCall): the action IAM authorizes it as
// (PutItem, UpdateItem, DeleteItem, ConditionCheckItem), its table and its
// dynamodb:LeadingKeys.
type CallItem struct {
	Operation string
	ARNs      []string
	Context   map[string][]string
}

// CallRequests returns what IAM authorizes for one API call of principal:
// the call itself, or, for a call with items (TransactWriteItems), one
// request per item. DynamoDB has no IAM action of its own for a write
// transaction: it authorizes each item by its underlying action, with the
// item's key as dynamodb:LeadingKeys.
func CallRequests(principal, signingName, operation string, arns []string, ctx map[string][]string, items []CallItem) []Request {
	if len(items) == 0 {
		return []Request{{Principal: principal, Action: IAMAction(signingName, operation), Resources: arns, Context: ctx}}
	}
	out := make([]Request, len(items))
	for i, it := range items {
		out[i] = Request{Principal: principal, Action: IAMAction(signingName, it.Operation), Resources: it.ARNs, Context: it.Context}
	}
	return out
}
