package devcli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/samtemplate"
)

// Default paths of validate, relative to the working directory (the
// repository root).
const (
	DefaultTemplatePath = "template.yaml"
	DefaultASLPath      = "statemachine/failover.asl.json"
)

type validateFlags struct {
	template   string
	asl        string
	configs    []string
	params     []string
	paramsFile string
	// writeDefinition is where to write the template's state machine
	// definition with its DefinitionSubstitutions applied ("" not at all),
	// for third-party validators such as asl-validator.
	writeDefinition string
}

func newValidateCommand(env cli.Env) *cobra.Command {
	a := &tool{env: env}
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate [--template template.yaml] [--asl FILE] [--config FILE]... [--param KEY=VALUE]...",
		Short: "Check the deployable artefacts offline: template, state machine, cluster configs",
		Long: "validate checks, without calling AWS:\n" +
			"  - the SAM template (package samtemplate: substitutions, task resources and timeouts,\n" +
			"    alarm, EventBridge rule and cluster configuration agreeing), evaluated with the\n" +
			"    --param/--params values, or when none are given with example values (ExampleParams)\n" +
			"    so the structure can be checked before any real value exists;\n" +
			"  - the state machine definition: parsed as Step Functions would, after its ${...}\n" +
			"    placeholders are replaced by dummy Lambda ARNs;\n" +
			"  - each cluster configuration given with --config.\n" +
			"An empty --template or --asl skips that check. Every problem is printed; the exit\n" +
			"status is 1 if there is any.",
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runValidate(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.template, "template", DefaultTemplatePath, "SAM template to check (\"\" to skip)")
	fl.StringVar(&f.asl, "asl", DefaultASLPath, "state machine definition to check (\"\" to skip)")
	fl.StringArrayVar(&f.configs, "config", nil, "cluster configuration JSON file to check (repeatable)")
	fl.StringArrayVar(&f.params, "param", nil, "template parameter KEY=VALUE (repeatable; wins over --params)")
	fl.StringVar(&f.writeDefinition, "write-definition", "",
		"write the template's state machine definition, DefinitionSubstitutions applied, to this file")
	fl.StringVar(&f.paramsFile, "params", "", "template parameters file: a JSON object {\"Key\":\"value\"} or CloudFormation's [{\"ParameterKey\",\"ParameterValue\"}]")
	return cmd
}

// checkResult is one artefact checked by validate.
type checkResult struct {
	Kind     string   `json:"kind"` // template, statemachine or config
	Path     string   `json:"path"`
	Problems []string `json:"problems"`
	// Notes are remarks that are not problems, e.g. which template
	// parameters got example values.
	Notes []string `json:"notes,omitempty"`
}

type validateOutput struct {
	OK     bool          `json:"ok"`
	Checks []checkResult `json:"checks"`
}

func (a *tool) runValidate(_ context.Context, f validateFlags) error {
	params, err := f.parameters()
	if err != nil {
		return err
	}
	if f.template == "" && f.asl == "" && len(f.configs) == 0 {
		return cli.UsageErrorf("nothing to check: --template and --asl are empty and no --config was given")
	}
	if f.writeDefinition != "" && f.template == "" {
		return cli.UsageErrorf("--write-definition needs a --template to take the definition from")
	}
	var out validateOutput
	if f.template != "" {
		out.Checks = append(out.Checks, checkTemplate(f.template, params, f.writeDefinition))
	}
	if f.asl != "" {
		out.Checks = append(out.Checks, checkDefinition(f.asl))
	}
	for _, path := range f.configs {
		out.Checks = append(out.Checks, checkConfig(path))
	}
	problems := 0
	for i := range out.Checks {
		if out.Checks[i].Problems == nil {
			out.Checks[i].Problems = []string{}
		}
		problems += len(out.Checks[i].Problems)
	}
	out.OK = problems == 0
	if a.env.JSONOutput() {
		if err := cli.WriteJSON(a.env.Stdout(), out); err != nil {
			return err
		}
	} else {
		printChecks(a, out.Checks)
	}
	if problems > 0 {
		return fmt.Errorf("validate found %d problem(s)", problems)
	}
	return nil
}

func printChecks(a *tool, checks []checkResult) {
	for _, c := range checks {
		status := "ok  "
		if len(c.Problems) > 0 {
			status = "FAIL"
		}
		fmt.Fprintf(a.env.Stdout(), "%s  %-12s %s\n", status, c.Kind, c.Path)
		for _, p := range c.Problems {
			fmt.Fprintf(a.env.Stdout(), "      - %s\n", p)
		}
		for _, n := range c.Notes {
			fmt.Fprintf(a.env.Stdout(), "      note: %s\n", n)
		}
	}
}

func checkTemplate(path string, params map[string]string, writeDefinition string) checkResult {
	res := checkResult{Kind: "template", Path: path}
	data, err := os.ReadFile(path)
	if err != nil {
		res.Problems = append(res.Problems, readProblem(path, "--template", err))
		return res
	}
	if params == nil {
		decls, err := declaredParameters(data)
		if err != nil {
			res.Problems = append(res.Problems, err.Error())
			return res
		}
		var names []string
		params, names = exampleParameters(decls)
		res.Notes = append(res.Notes, "no parameters given: checked with example values for "+strings.Join(names, ", "))
	}
	for _, err := range samtemplate.Validate(path, params) {
		res.Problems = append(res.Problems, splitJoined(err)...)
	}
	switch {
	case writeDefinition == "":
	case len(res.Problems) > 0:
		res.Notes = append(res.Notes, "state machine definition not written to "+writeDefinition+": the template has problems")
	default:
		if err := writeSubstitutedDefinition(path, params, writeDefinition); err != nil {
			res.Problems = append(res.Problems, err.Error())
		} else {
			res.Notes = append(res.Notes, "state machine definition with DefinitionSubstitutions applied written to "+writeDefinition)
		}
	}
	return res
}

// writeSubstitutedDefinition writes the state machine definition of the
// template evaluated with params, as CloudFormation would hand it to Step
// Functions.
func writeSubstitutedDefinition(templatePath string, params map[string]string, out string) error {
	app, err := samtemplate.Load(templatePath, params)
	if err != nil {
		return fmt.Errorf("--write-definition: %w", err)
	}
	if app.StateMachine == nil {
		return fmt.Errorf("--write-definition: %s has no state machine", templatePath)
	}
	if err := os.WriteFile(out, app.StateMachine.Definition, 0o644); err != nil {
		return fmt.Errorf("--write-definition: %w", err)
	}
	return nil
}

// placeholderPattern finds the ${Name} placeholders of a definition.
var placeholderPattern = regexp.MustCompile(`\$\{([A-Za-z0-9_.:]+)\}`)

func checkDefinition(path string) checkResult {
	res := checkResult{Kind: "statemachine", Path: path}
	data, err := os.ReadFile(path)
	if err != nil {
		res.Problems = append(res.Problems, readProblem(path, "--asl", err))
		return res
	}
	vars := map[string]string{}
	for _, m := range placeholderPattern.FindAllSubmatch(data, -1) {
		name := string(m[1])
		vars[name] = "arn:aws:lambda:us-east-1:123456789012:function:switchyard-" + strings.TrimSuffix(name, "Arn")
	}
	def, err := asl.Substitute(data, vars)
	if err != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("substituting placeholders: %v", err))
		return res
	}
	if _, err := asl.Parse(def); err != nil {
		res.Problems = append(res.Problems, splitJoined(err)...)
	}
	if len(vars) > 0 {
		names := make([]string, 0, len(vars))
		for n := range vars {
			names = append(names, n)
		}
		sort.Strings(names)
		res.Notes = append(res.Notes, "placeholders replaced by dummy Lambda ARNs: "+strings.Join(names, ", "))
	}
	return res
}

func checkConfig(path string) checkResult {
	res := checkResult{Kind: "config", Path: path}
	if _, err := os.Stat(path); err != nil {
		res.Problems = append(res.Problems, readProblem(path, "--config", err))
		return res
	}
	if _, err := cluster.Load(path); err != nil {
		res.Problems = append(res.Problems, splitJoined(err)...)
	}
	return res
}

func readProblem(path, flag string, err error) string {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Sprintf("%s does not exist (run from the repository root or pass %s)", path, flag)
	}
	return fmt.Sprintf("reading %s: %v", path, err)
}

// splitJoined lists the problems of an error one per line: errors.Join
// (also behind a wrapping prefix) puts one error on each line.
func splitJoined(err error) []string {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}
