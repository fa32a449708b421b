package samtemplate

import (
	"fmt"
)

// Resource types this package understands.
const (
	TypeServerlessFunction     = "AWS::Serverless::Function"
	TypeLambdaFunction         = "AWS::Lambda::Function"
	TypeServerlessStateMachine = "AWS::Serverless::StateMachine"
	TypeStateMachine           = "AWS::StepFunctions::StateMachine"
	TypeTable                  = "AWS::DynamoDB::Table"
	TypeAlarm                  = "AWS::CloudWatch::Alarm"
	TypeManagedPolicy          = "AWS::IAM::ManagedPolicy"
	TypeTopic                  = "AWS::SNS::Topic"
)

// resource is one entry of the Resources section before evaluation.
type resource struct {
	id        string
	typ       string
	props     map[string]any // raw; SAM Globals already merged
	metadata  map[string]any
	condition string
	created   bool // false when its Condition is false
}

// naming says how a resource type is named, referenced and addressed.
type naming struct {
	nameProp string // property holding the physical name
	service  string // ARN service
	arn      string // ARN resource part, %s is the name
	refIsARN bool   // Ref returns the ARN rather than the name
	global   bool   // the ARN has no region (IAM)
}

var namings = map[string]naming{
	TypeServerlessFunction:     {nameProp: "FunctionName", service: "lambda", arn: "function:%s"},
	TypeLambdaFunction:         {nameProp: "FunctionName", service: "lambda", arn: "function:%s"},
	TypeTable:                  {nameProp: "TableName", service: "dynamodb", arn: "table/%s"},
	TypeAlarm:                  {nameProp: "AlarmName", service: "cloudwatch", arn: "alarm:%s"},
	TypeServerlessStateMachine: {nameProp: "Name", service: "states", arn: "stateMachine:%s", refIsARN: true},
	TypeStateMachine:           {nameProp: "StateMachineName", service: "states", arn: "stateMachine:%s", refIsARN: true},
	TypeManagedPolicy:          {nameProp: "ManagedPolicyName", service: "iam", arn: "policy/%s", refIsARN: true, global: true},
	TypeTopic:                  {nameProp: "TopicName", service: "sns", arn: "%s", refIsARN: true},
}

// loadResources reads the Resources section and merges SAM Globals into
// serverless functions and state machines.
func loadResources(tmpl map[string]any) (map[string]*resource, error) {
	section, err := mapAt(tmpl, "Resources")
	if err != nil {
		return nil, err
	}
	globals, err := mapAt(tmpl, "Globals")
	if err != nil {
		return nil, err
	}
	out := make(map[string]*resource, len(section))
	for _, id := range sortedKeys(section) {
		body, ok := section[id].(map[string]any)
		if !ok {
			return nil, errf("Resources."+id, "not a mapping")
		}
		r := &resource{id: id, created: true}
		if r.typ, ok = body["Type"].(string); !ok {
			return nil, errf("Resources."+id, "no Type")
		}
		if r.props, err = mapAt(body, "Properties"); err != nil {
			return nil, errf("Resources."+id, "%v", err)
		}
		if r.metadata, err = mapAt(body, "Metadata"); err != nil {
			return nil, errf("Resources."+id, "%v", err)
		}
		if c, ok := body["Condition"]; ok {
			if r.condition, ok = c.(string); !ok {
				return nil, errf("Resources."+id+".Condition", "not a condition name")
			}
		}
		var globalsKey string
		switch r.typ {
		case TypeServerlessFunction:
			globalsKey = "Function"
		case TypeServerlessStateMachine:
			globalsKey = "StateMachine"
		}
		if g, ok := globals[globalsKey].(map[string]any); ok && globalsKey != "" {
			r.props = mergeGlobals(g, r.props).(map[string]any)
		}
		out[id] = r
	}
	return out, nil
}

// mergeGlobals merges a Globals section into resource properties the way
// SAM does: mappings are merged key by key, lists are concatenated (globals
// first), any other value of the resource replaces the global one.
// Intrinsic functions are values, never merged into.
func mergeGlobals(global, local any) any {
	gm, gok := global.(map[string]any)
	lm, lok := local.(map[string]any)
	if gok && lok && !isIntrinsic(gm) && !isIntrinsic(lm) {
		out := make(map[string]any, len(gm)+len(lm))
		for k, v := range gm {
			out[k] = v
		}
		for k, v := range lm {
			if gv, ok := gm[k]; ok {
				out[k] = mergeGlobals(gv, v)
			} else {
				out[k] = v
			}
		}
		return out
	}
	gl, gok := global.([]any)
	ll, lok := local.([]any)
	if gok && lok {
		return append(append([]any{}, gl...), ll...)
	}
	return local
}

func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || len(k) > 4 && k[:4] == "Fn::"
	}
	return false
}

// applyConditions marks the resources whose Condition is false.
func (e *evaluator) applyConditions() error {
	for _, id := range sortedKeys(e.resources) {
		r := e.resources[id]
		if r.condition == "" {
			continue
		}
		c, err := e.condition(r.condition, "Resources."+id+".Condition")
		if err != nil {
			return err
		}
		r.created = c
	}
	return nil
}

// physicalName is the resource's name: its name property, or
// <stack>-<LogicalId> as a stand-in for the name CloudFormation generates.
func (e *evaluator) physicalName(id, path string) (string, error) {
	r := e.resources[id]
	n, ok := namings[r.typ]
	if !ok {
		return "", errf(path, "resource %s has type %s, which samtemplate cannot name", id, r.typ)
	}
	if !r.created {
		return "", errf(path, "resource %s is not created (its condition %s is false)", id, r.condition)
	}
	raw, ok := r.props[n.nameProp]
	if !ok {
		return e.pseudo[PseudoStackName] + "-" + id, nil
	}
	if e.refBusy[id] {
		return "", errf(path, "the name of resource %s depends on itself", id)
	}
	e.refBusy[id] = true
	defer delete(e.refBusy, id)
	return e.evalString(raw, "Resources."+id+".Properties."+n.nameProp)
}

func (e *evaluator) arn(id, path string) (string, error) {
	name, err := e.physicalName(id, path)
	if err != nil {
		return "", err
	}
	n := namings[e.resources[id].typ]
	region := e.pseudo[PseudoRegion]
	if n.global {
		region = ""
	}
	return fmt.Sprintf("arn:%s:%s:%s:%s:"+n.arn, e.pseudo[PseudoPartition], n.service,
		region, e.pseudo[PseudoAccountID], name), nil
}

func (e *evaluator) resourceRef(id, path string) (any, error) {
	if namings[e.resources[id].typ].refIsARN {
		return e.arn(id, path)
	}
	return e.physicalName(id, path)
}

func (e *evaluator) getAtt(id, attr, path string) (any, error) {
	r, ok := e.resources[id]
	if !ok {
		return nil, errf(path, "Fn::GetAtt %s.%s: no resource %s", id, attr, id)
	}
	switch {
	case attr == "Arn":
		return e.arn(id, path)
	case attr == "Name" && namings[r.typ].refIsARN:
		return e.physicalName(id, path)
	case attr == "TopicName" && r.typ == TypeTopic:
		return e.physicalName(id, path)
	case attr == "StreamArn" && r.typ == TypeTable:
		props, err := e.props(r)
		if err != nil {
			return nil, err
		}
		if _, ok := props["StreamSpecification"]; !ok {
			return nil, errf(path, "Fn::GetAtt %s.StreamArn: the table has no StreamSpecification", id)
		}
		arn, err := e.arn(id, path)
		if err != nil {
			return nil, err
		}
		return streamArn(arn), nil
	}
	return nil, errf(path, "Fn::GetAtt %s.%s: attribute %s of %s is not supported", id, attr, attr, r.typ)
}
