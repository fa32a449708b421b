package sfnsim

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/localaws"
)

// stateMachine is a created state machine. machine is replaced by
// UpdateStateMachine; running executions keep the one they started with.
type stateMachine struct {
	arn, name, typ string
	definition     string
	roleArn        string
	machine        *asl.Machine
	created        time.Time
	updated        time.Time
	executions     []*execution // in start order
}

type createStateMachineInput struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
	RoleArn    string `json:"roleArn"`
	Type       string `json:"type"`
}

// CreateStateMachine creates a Standard state machine in process, with the
// same checks and idempotency as the CreateStateMachine call, and returns
// its ARN. Errors are *localaws.APIError with Step Functions' codes.
func (s *Service) CreateStateMachine(name string, definition []byte, roleArn string) (string, error) {
	sm, err := s.createStateMachine(createStateMachineInput{Name: name, Definition: string(definition), RoleArn: roleArn})
	if err != nil {
		return "", err
	}
	return sm.arn, nil
}

func (s *Service) createStateMachineCall(call *localaws.Call) (any, error) {
	var in createStateMachineInput
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	sm, err := s.createStateMachine(in)
	if err != nil {
		return nil, err
	}
	call.AddResource(sm.arn)
	return map[string]any{"stateMachineArn": sm.arn, "creationDate": epoch(sm.created)}, nil
}

func (s *Service) createStateMachine(in createStateMachineInput) (*stateMachine, error) {
	if err := checkName(in.Name); err != nil {
		return nil, err
	}
	if in.Type == "" {
		in.Type = "STANDARD"
	}
	if in.Type != "STANDARD" {
		return nil, localaws.BadRequest("ValidationException", "The local stack emulates STANDARD state machines only, not %s", in.Type)
	}
	if err := checkRoleArn(in.RoleArn); err != nil {
		return nil, err
	}
	m, err := parseDefinition(in.Definition)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	arn := s.machineArn(in.Name)
	if sm, ok := s.machines[arn]; ok {
		if sm.definition == in.Definition && sm.typ == in.Type {
			return sm, nil
		}
		return nil, localaws.BadRequest("StateMachineAlreadyExists", "State Machine Already Exists: '%s'", arn)
	}
	now := s.opts.Now()
	sm := &stateMachine{arn: arn, name: in.Name, typ: in.Type, definition: in.Definition, roleArn: in.RoleArn,
		machine: m, created: now, updated: now}
	s.machines[arn] = sm
	return sm, nil
}

func parseDefinition(def string) (*asl.Machine, error) {
	if strings.TrimSpace(def) == "" {
		return nil, localaws.BadRequest("InvalidDefinition", "Invalid State Machine Definition: 'definition is empty'")
	}
	m, err := asl.Parse([]byte(def))
	if err != nil {
		return nil, localaws.BadRequest("InvalidDefinition", "Invalid State Machine Definition: '%v'", err)
	}
	return m, nil
}

var roleArnSyntax = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/.+$`)

func checkRoleArn(arn string) error {
	if !roleArnSyntax.MatchString(arn) {
		return localaws.BadRequest("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
	}
	return nil
}

// machine returns the state machine with the ARN. s.mu is held.
func (s *Service) machine(arn string) (*stateMachine, error) {
	if err := checkArn(arn, "stateMachine"); err != nil {
		return nil, err
	}
	sm, ok := s.machines[arn]
	if !ok {
		return nil, localaws.BadRequest("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	return sm, nil
}

type machineArnInput struct {
	StateMachineArn string `json:"stateMachineArn"`
}

func (s *Service) describeStateMachine(call *localaws.Call) (any, error) {
	var in machineArnInput
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	call.AddResource(in.StateMachineArn)
	s.mu.Lock()
	defer s.mu.Unlock()
	sm, err := s.machine(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"stateMachineArn":      sm.arn,
		"name":                 sm.name,
		"status":               "ACTIVE",
		"definition":           sm.definition,
		"roleArn":              sm.roleArn,
		"type":                 sm.typ,
		"creationDate":         epoch(sm.created),
		"loggingConfiguration": map[string]any{"level": "OFF", "includeExecutionData": false},
		"tracingConfiguration": map[string]any{"enabled": false},
	}, nil
}

func (s *Service) updateStateMachine(call *localaws.Call) (any, error) {
	var in struct {
		StateMachineArn string  `json:"stateMachineArn"`
		Definition      *string `json:"definition"`
		RoleArn         *string `json:"roleArn"`
	}
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	call.AddResource(in.StateMachineArn)
	if in.Definition == nil && in.RoleArn == nil {
		return nil, localaws.BadRequest("MissingRequiredParameter", "Either the definition or the roleArn must be specified")
	}
	var m *asl.Machine
	if in.Definition != nil {
		var err error
		if m, err = parseDefinition(*in.Definition); err != nil {
			return nil, err
		}
	}
	if in.RoleArn != nil {
		if err := checkRoleArn(*in.RoleArn); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sm, err := s.machine(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if m != nil {
		sm.machine, sm.definition = m, *in.Definition
	}
	if in.RoleArn != nil {
		sm.roleArn = *in.RoleArn
	}
	sm.updated = s.opts.Now()
	return map[string]any{"updateDate": epoch(sm.updated)}, nil
}

func (s *Service) listStateMachines(call *localaws.Call) (any, error) {
	var in struct {
		MaxResults int    `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(call, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	arns := make([]string, 0, len(s.machines))
	for arn := range s.machines {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	items := make([]map[string]any, len(arns))
	for i, arn := range arns {
		sm := s.machines[arn]
		items[i] = map[string]any{"stateMachineArn": sm.arn, "name": sm.name, "type": sm.typ, "creationDate": epoch(sm.created)}
	}
	s.mu.Unlock()
	page, next, err := paginate(items, func(m map[string]any) string { return m["stateMachineArn"].(string) }, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"stateMachines": page}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

var substitution = regexp.MustCompile(`\$\{([^}]*)\}`)

// Substitute replaces every ${Name} in a definition template with
// subs[Name], as SAM's DefinitionSubstitutions do (the value is inserted as
// is). It fails, naming them, when any ${...} has no value.
func Substitute(def []byte, subs map[string]string) ([]byte, error) {
	var missing []string
	out := substitution.ReplaceAllFunc(def, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		v, ok := subs[name]
		if !ok {
			missing = append(missing, "${"+name+"}")
			return m
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("substituting the state machine definition: no value for %s", strings.Join(missing, ", "))
	}
	return out, nil
}
