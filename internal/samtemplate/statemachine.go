package samtemplate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// StateMachine is an AWS::Serverless::StateMachine with its definition read
// and substituted.
type StateMachine struct {
	LogicalID string
	// Name is the Name property or <stack>-<LogicalId>; Arn is what Ref
	// returns.
	Name, Arn string
	// Type is STANDARD (the default) or EXPRESS.
	Type string
	// DefinitionURI is the DefinitionUri property as written ("" for an
	// inline Definition); DefinitionPath the file read.
	DefinitionURI, DefinitionPath string
	// RawDefinition is the definition before substitution; Definition the
	// JSON after DefinitionSubstitutions were applied.
	RawDefinition []byte
	Definition    json.RawMessage
	// Substitutions are the evaluated DefinitionSubstitutions.
	Substitutions map[string]string
	// EventRules are the EventBridgeRule events that start executions.
	EventRules []EventRule
	// Policies and ManagedPolicies are the state machine role's policies,
	// as for Function.
	Policies        []Statement
	ManagedPolicies []string
}

// EventRule is an EventBridge rule that starts the state machine.
type EventRule struct {
	// EventID is the key under the state machine's Events.
	EventID string
	// Name is the RuleName property or <stack>-<StateMachineId><EventID>.
	Name string
	// EventBusName is "default" unless set.
	EventBusName string
	// Pattern is the evaluated event pattern as JSON.
	Pattern json.RawMessage
	// Input and InputPath are the target's input settings ("" if unset).
	Input, InputPath string
	// Schedule is a Schedule event's expression (rate(…) or cron(…)); such
	// a rule has no Pattern.
	Schedule string
}

func buildStateMachine(e *evaluator, r *resource, dir string) (*StateMachine, error) {
	props, err := e.props(r)
	if err != nil {
		return nil, err
	}
	path := "Resources." + r.id + ".Properties"
	p := &reader{m: props, path: path}
	sm := &StateMachine{LogicalID: r.id, Type: p.str("Type")}
	if sm.Type == "" {
		sm.Type = "STANDARD"
	}
	sm.Substitutions = p.strMap("DefinitionSubstitutions")
	if err := collect(p); err != nil {
		return nil, err
	}
	if sm.Name, err = e.physicalName(r.id, path); err != nil {
		return nil, err
	}
	if sm.Arn, err = e.arn(r.id, path); err != nil {
		return nil, err
	}
	if err := sm.readDefinition(props, dir, path); err != nil {
		return nil, err
	}
	if v, ok := props["Policies"]; ok {
		if sm.Policies, sm.ManagedPolicies, err = parsePolicies(e, v, path+".Policies"); err != nil {
			return nil, err
		}
	}
	if sm.EventRules, err = eventRules(e, r.id, p, nil); err != nil {
		return nil, err
	}
	return sm, nil
}

func (sm *StateMachine) readDefinition(props map[string]any, dir, path string) error {
	inline, hasInline := props["Definition"]
	uri, hasURI := props["DefinitionUri"]
	if hasURI {
		s, ok := uri.(string)
		if !ok || s == "" {
			return errf(path+".DefinitionUri", "only a local file path is supported, not an S3 location")
		}
		sm.DefinitionURI = s
	}
	switch {
	case hasInline && hasURI:
		return errf(path, "both Definition and DefinitionUri are set")
	case hasInline:
		raw, err := json.Marshal(inline)
		if err != nil {
			return errf(path+".Definition", "%v", err)
		}
		sm.RawDefinition = raw
	case !hasURI:
		return errf(path, "neither Definition nor DefinitionUri is set")
	case strings.HasPrefix(sm.DefinitionURI, "s3://"):
		return errf(path+".DefinitionUri", "only a local file path is supported, not %s", sm.DefinitionURI)
	default:
		sm.DefinitionPath = sm.DefinitionURI
		if !filepath.IsAbs(sm.DefinitionPath) {
			sm.DefinitionPath = filepath.Join(dir, sm.DefinitionPath)
		}
		raw, err := os.ReadFile(sm.DefinitionPath)
		if err != nil {
			return errf(path+".DefinitionUri", "reading the definition: %v", err)
		}
		sm.RawDefinition = raw
	}
	def, err := substituteDefinition(string(sm.RawDefinition), sm.Substitutions)
	if err != nil {
		return errf(path, "definition %s: %v", sm.definitionName(), err)
	}
	if !json.Valid([]byte(def)) {
		return errf(path, "definition %s is not valid JSON after substitution", sm.definitionName())
	}
	sm.Definition = []byte(def)
	return nil
}

func (sm *StateMachine) definitionName() string {
	if sm.DefinitionURI != "" {
		return sm.DefinitionURI
	}
	return "(inline)"
}

// eventRules reads the Events of a function or state machine. DynamoDB
// stream events go to streams (nil: not allowed, as for a state machine).
func eventRules(e *evaluator, smID string, p *reader, streams *[]StreamEvent) ([]EventRule, error) {
	events := p.sub("Events")
	if err := collect(p); err != nil {
		return nil, err
	}
	var out []EventRule
	for _, id := range sortedKeys(events.m) {
		ev := events.sub(id)
		typ := ev.str("Type")
		if err := collect(events, ev); err != nil {
			return nil, err
		}
		if typ == "DynamoDB" && streams != nil {
			se, err := streamEvent(id, ev)
			if err != nil {
				return nil, err
			}
			*streams = append(*streams, se)
			continue
		}
		if typ != "EventBridgeRule" && typ != "CloudWatchEvent" && typ != "Schedule" {
			return nil, errf(ev.path+".Type", "event type %q is not supported by samtemplate", typ)
		}
		props := ev.sub("Properties")
		if typ == "Schedule" {
			rule := EventRule{EventID: id, Name: props.str("Name"), EventBusName: "default", Input: props.str("Input"),
				Schedule: props.required("Schedule")}
			if err := collect(ev, props); err != nil {
				return nil, err
			}
			if !strings.HasPrefix(rule.Schedule, "rate(") && !strings.HasPrefix(rule.Schedule, "cron(") {
				return nil, errf(props.path+".Schedule", "%q is neither rate(…) nor cron(…)", rule.Schedule)
			}
			if rule.Name == "" {
				rule.Name = fmt.Sprintf("%s-%s%s", e.pseudo[PseudoStackName], smID, id)
			}
			out = append(out, rule)
			continue
		}
		rule := EventRule{
			EventID:      id,
			Name:         props.str("RuleName"),
			EventBusName: props.str("EventBusName"),
			Input:        props.str("Input"),
			InputPath:    props.str("InputPath"),
		}
		pattern, ok := props.m["Pattern"].(map[string]any)
		if err := collect(ev, props); err != nil {
			return nil, err
		}
		if !ok {
			return nil, errf(props.path+".Pattern", "missing or not a mapping")
		}
		raw, err := json.Marshal(pattern)
		if err != nil {
			return nil, errf(props.path+".Pattern", "%v", err)
		}
		rule.Pattern = raw
		if rule.Name == "" {
			rule.Name = fmt.Sprintf("%s-%s%s", e.pseudo[PseudoStackName], smID, id)
		}
		if rule.EventBusName == "" {
			rule.EventBusName = "default"
		}
		out = append(out, rule)
	}
	return out, nil
}
