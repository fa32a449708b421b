package samtemplate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// App is a SAM template evaluated for one set of parameter values: what
// the stack would create, with local names and ARNs.
type App struct {
	// Path is the template file; Dir its directory, against which
	// DefinitionUri and CodeUri are resolved.
	Path, Dir string
	// Region, AccountID, Partition and StackName are the pseudo parameter
	// values used.
	Region, AccountID, Partition, StackName string
	// Parameters holds the value of every declared parameter (list
	// parameters comma-joined).
	Parameters map[string]string
	// Conditions holds the value of every condition of the template.
	Conditions map[string]bool
	// Functions by logical id.
	Functions map[string]*Function
	// Tables by logical id.
	Tables map[string]*Table
	// Alarms by logical id.
	Alarms map[string]*Alarm
	// ManagedPolicies are the template's AWS::IAM::ManagedPolicy
	// resources by logical id (e.g. the node agent's instance-profile
	// policy).
	ManagedPolicies map[string]*ManagedPolicy
	// Dashboards by logical id.
	Dashboards map[string]*Dashboard
	// Topics are the SNS topics by logical id.
	Topics map[string]*Topic
	// StateMachine is the template's state machine (nil if it has none;
	// more than one is an error).
	StateMachine *StateMachine
	// Outputs holds the evaluated Outputs (list values comma-joined);
	// outputs whose condition is false are absent.
	Outputs map[string]string
}

// Load reads the SAM template at path and evaluates it with the given
// parameter values. Parameters missing from params take their Default; one
// with no Default is an error naming it. The keys AWS::Region,
// AWS::AccountId, AWS::Partition, AWS::StackName and AWS::URLSuffix set
// the pseudo parameters (defaults: the Default* constants).
func Load(path string, params map[string]string) (*App, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading SAM template: %w", err)
	}
	app, err := parse(data, path, params)
	if err != nil {
		return nil, fmt.Errorf("SAM template %s: %w", path, err)
	}
	return app, nil
}

func parse(data []byte, path string, params map[string]string) (*App, error) {
	tmpl, err := parseYAML(data)
	if err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	pseudo, err := resolvePseudo(params)
	if err != nil {
		return nil, err
	}
	values, err := resolveParams(tmpl, params)
	if err != nil {
		return nil, err
	}
	e := &evaluator{
		pseudo:    pseudo,
		params:    values,
		condValue: map[string]bool{},
		condBusy:  map[string]bool{},
		refBusy:   map[string]bool{},
	}
	if e.conditions, err = mapAt(tmpl, "Conditions"); err != nil {
		return nil, err
	}
	if e.mappings, err = mapAt(tmpl, "Mappings"); err != nil {
		return nil, err
	}
	if e.resources, err = loadResources(tmpl); err != nil {
		return nil, err
	}
	app := &App{
		Path:       path,
		Dir:        filepath.Dir(path),
		Region:     pseudo[PseudoRegion],
		AccountID:  pseudo[PseudoAccountID],
		Partition:  pseudo[PseudoPartition],
		StackName:  pseudo[PseudoStackName],
		Parameters: map[string]string{},
		Conditions: map[string]bool{},
		Functions:  map[string]*Function{},
		Tables:     map[string]*Table{},
		Alarms:     map[string]*Alarm{},
		Outputs:    map[string]string{},

		ManagedPolicies: map[string]*ManagedPolicy{},
		Dashboards:      map[string]*Dashboard{},
		Topics:          map[string]*Topic{},
	}
	for name, v := range values {
		if v.isList {
			app.Parameters[name] = strings.Join(v.list, ",")
		} else {
			app.Parameters[name] = v.str
		}
	}
	for _, name := range sortedKeys(e.conditions) {
		if app.Conditions[name], err = e.condition(name, "Conditions."+name); err != nil {
			return nil, err
		}
	}
	if err := e.applyConditions(); err != nil {
		return nil, err
	}
	if err := app.buildResources(e); err != nil {
		return nil, err
	}
	if err := app.buildOutputs(e, tmpl); err != nil {
		return nil, err
	}
	return app, nil
}

func (a *App) buildResources(e *evaluator) error {
	for _, id := range sortedKeys(e.resources) {
		r := e.resources[id]
		if !r.created {
			continue
		}
		switch r.typ {
		case TypeServerlessFunction:
			fn, err := buildFunction(e, r)
			if err != nil {
				return err
			}
			a.Functions[id] = fn
		case TypeTable:
			t, err := buildTable(e, r)
			if err != nil {
				return err
			}
			a.Tables[id] = t
		case TypeAlarm:
			al, err := buildAlarm(e, r)
			if err != nil {
				return err
			}
			a.Alarms[id] = al
		case TypeManagedPolicy:
			mp, err := buildManagedPolicy(e, r)
			if err != nil {
				return err
			}
			a.ManagedPolicies[id] = mp
		case TypeDashboard:
			d, err := buildDashboard(e, r)
			if err != nil {
				return err
			}
			a.Dashboards[id] = d
		case TypeTopic:
			t, err := buildTopic(e, r)
			if err != nil {
				return err
			}
			a.Topics[id] = t
		case TypeServerlessStateMachine:
			if a.StateMachine != nil {
				return errf("Resources."+id, "a second state machine (after %s); samtemplate supports one", a.StateMachine.LogicalID)
			}
			sm, err := buildStateMachine(e, r, a.Dir)
			if err != nil {
				return err
			}
			a.StateMachine = sm
		}
	}
	return nil
}

func (a *App) buildOutputs(e *evaluator, tmpl map[string]any) error {
	outputs, err := mapAt(tmpl, "Outputs")
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(outputs) {
		path := "Outputs." + name
		out, ok := outputs[name].(map[string]any)
		if !ok {
			return fmt.Errorf("%s is not a mapping", path)
		}
		if c, ok := out["Condition"].(string); ok {
			created, err := e.condition(c, path+".Condition")
			if err != nil {
				return err
			}
			if !created {
				continue
			}
		}
		v, err := e.eval(out["Value"], path+".Value")
		if err != nil {
			return err
		}
		list, err := toStringList(v)
		if err != nil {
			return errf(path+".Value", "%v", err)
		}
		a.Outputs[name] = strings.Join(list, ",")
	}
	return nil
}

// props evaluates a resource's properties.
func (e *evaluator) props(r *resource) (map[string]any, error) {
	v, err := e.eval(r.props, "Resources."+r.id+".Properties")
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}
