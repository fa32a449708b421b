package samtemplate

import "fmt"

// ManagedPolicy is an AWS::IAM::ManagedPolicy: a policy the template
// creates for principals outside it, such as the node agents' instance
// profile.
type ManagedPolicy struct {
	LogicalID string
	// Name is the ManagedPolicyName (or <stack>-<LogicalId>); Arn, which
	// Ref returns, is arn:<partition>:iam::<account>:policy/<Name>.
	Name, Arn   string
	Description string
	Statements  []Statement
}

func buildManagedPolicy(e *evaluator, r *resource) (*ManagedPolicy, error) {
	props, err := e.props(r)
	if err != nil {
		return nil, err
	}
	path := "Resources." + r.id + ".Properties"
	p := &reader{m: props, path: path}
	mp := &ManagedPolicy{LogicalID: r.id, Description: p.str("Description")}
	doc, ok := props["PolicyDocument"].(map[string]any)
	if !ok {
		return nil, errf(path+".PolicyDocument", "missing or not a mapping")
	}
	if err := collect(p); err != nil {
		return nil, err
	}
	if v, _ := doc["Version"].(string); v != "2012-10-17" {
		return nil, errf(path+".PolicyDocument.Version", "%q, want \"2012-10-17\" (the older version has no policy variables)", v)
	}
	if mp.Statements, err = parsePolicy(e, doc, path+".PolicyDocument"); err != nil {
		return nil, err
	}
	if mp.Name, err = e.physicalName(r.id, path); err != nil {
		return nil, err
	}
	if mp.Arn, err = e.arn(r.id, path); err != nil {
		return nil, err
	}
	if len(mp.Statements) == 0 {
		return nil, fmt.Errorf("%s.PolicyDocument: no Statement", path)
	}
	return mp, nil
}
