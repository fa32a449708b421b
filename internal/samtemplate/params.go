package samtemplate

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Pseudo parameters that the params map of Load may set, and the values they
// have when it does not.
const (
	PseudoRegion    = "AWS::Region"
	PseudoAccountID = "AWS::AccountId"
	PseudoPartition = "AWS::Partition"
	PseudoStackName = "AWS::StackName"
	PseudoURLSuffix = "AWS::URLSuffix"

	DefaultRegion    = "us-east-1"
	DefaultAccountID = "123456789012"
	DefaultPartition = "aws"
	DefaultStackName = "switchyard"
	DefaultURLSuffix = "amazonaws.com"
)

var pseudoDefaults = map[string]string{
	PseudoRegion:    DefaultRegion,
	PseudoAccountID: DefaultAccountID,
	PseudoPartition: DefaultPartition,
	PseudoStackName: DefaultStackName,
	PseudoURLSuffix: DefaultURLSuffix,
}

// resolvePseudo returns the pseudo parameter values: the defaults, overridden
// by the AWS:: keys of params.
func resolvePseudo(params map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(pseudoDefaults)+1)
	for k, v := range pseudoDefaults {
		out[k] = v
	}
	for k, v := range params {
		if !strings.HasPrefix(k, "AWS::") {
			continue
		}
		if _, ok := pseudoDefaults[k]; !ok {
			return nil, fmt.Errorf("pseudo parameter %s cannot be set (settable: %s)", k, strings.Join(sortedKeys(pseudoDefaults), ", "))
		}
		if v == "" {
			return nil, fmt.Errorf("pseudo parameter %s is empty", k)
		}
		out[k] = v
	}
	out["AWS::StackId"] = fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000",
		out[PseudoPartition], out[PseudoRegion], out[PseudoAccountID], out[PseudoStackName])
	return out, nil
}

// paramValue is a resolved parameter: a string, or a list for the list types.
type paramValue struct {
	str    string
	list   []string
	isList bool
}

func (p paramValue) value() any {
	if !p.isList {
		return p.str
	}
	l := make([]any, len(p.list))
	for i, s := range p.list {
		l[i] = s
	}
	return l
}

// resolveParams checks params against the Parameters section and returns
// the value of every declared parameter. All problems are reported at once,
// each naming its parameter.
func resolveParams(tmpl map[string]any, params map[string]string) (map[string]paramValue, error) {
	decls, err := mapAt(tmpl, "Parameters")
	if err != nil {
		return nil, err
	}
	var errs []error
	for k := range params {
		if strings.HasPrefix(k, "AWS::") {
			continue
		}
		if _, ok := decls[k]; !ok {
			errs = append(errs, fmt.Errorf("parameter %s is not declared in the template", k))
		}
	}
	out := make(map[string]paramValue, len(decls))
	for _, name := range sortedKeys(decls) {
		decl, ok := decls[name].(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("parameter %s: declaration is not a mapping", name))
			continue
		}
		v, err := resolveParam(name, decl, params)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[name] = v
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// parameterProperties are the properties CloudFormation allows in a
// parameter declaration. Anything else makes CloudFormation reject the
// template; the usual cause is an unquoted ", " inside a {…} flow mapping,
// which splits a Description into an extra key.
var parameterProperties = map[string]bool{
	"Type": true, "Default": true, "Description": true, "AllowedValues": true, "AllowedPattern": true,
	"ConstraintDescription": true, "MinValue": true, "MaxValue": true, "MinLength": true, "MaxLength": true,
	"NoEcho": true,
}

func resolveParam(name string, decl map[string]any, params map[string]string) (paramValue, error) {
	for _, k := range sortedKeys(decl) {
		if !parameterProperties[k] {
			return paramValue{}, fmt.Errorf("parameter %s: property %q is not a parameter property "+
				"(an unquoted comma in a {…} flow mapping splits a value into a key; quote the value)", name, k)
		}
	}
	typ, _ := decl["Type"].(string)
	if typ == "" {
		return paramValue{}, fmt.Errorf("parameter %s has no Type", name)
	}
	raw, given := params[name]
	if !given {
		def, hasDefault := decl["Default"]
		if !hasDefault {
			return paramValue{}, fmt.Errorf("parameter %s has no value and no Default", name)
		}
		s, err := scalarString(def)
		if err != nil {
			return paramValue{}, fmt.Errorf("parameter %s: Default: %w", name, err)
		}
		raw = s
	}
	isList := typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<")
	if !isList {
		if err := checkScalarParam(name, typ, raw, decl); err != nil {
			return paramValue{}, err
		}
		return paramValue{str: raw}, nil
	}
	items := strings.Split(raw, ",")
	for i := range items {
		items[i] = strings.TrimSpace(items[i])
		if typ == "List<Number>" {
			if _, err := strconv.ParseFloat(items[i], 64); err != nil {
				return paramValue{}, fmt.Errorf("parameter %s: %q is not a number", name, items[i])
			}
		}
	}
	if err := checkAllowedValues(name, raw, decl); err != nil {
		return paramValue{}, err
	}
	return paramValue{list: items, isList: true}, nil
}

// checkScalarParam applies the constraints CloudFormation checks before it
// creates a stack: Number type, AllowedValues, AllowedPattern, Min/MaxValue,
// Min/MaxLength.
func checkScalarParam(name, typ, raw string, decl map[string]any) error {
	if typ == "Number" {
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return fmt.Errorf("parameter %s: %q is not a number", name, raw)
		}
		if lim, ok := numberAttr(decl, "MinValue"); ok && n < lim {
			return fmt.Errorf("parameter %s: %s is less than MinValue %v", name, raw, lim)
		}
		if lim, ok := numberAttr(decl, "MaxValue"); ok && n > lim {
			return fmt.Errorf("parameter %s: %s is more than MaxValue %v", name, raw, lim)
		}
	}
	if err := checkAllowedValues(name, raw, decl); err != nil {
		return err
	}
	if p, ok := decl["AllowedPattern"].(string); ok {
		re, err := regexp.Compile("^(?:" + p + ")$")
		if err != nil {
			return fmt.Errorf("parameter %s: AllowedPattern %q: %w", name, p, err)
		}
		if !re.MatchString(raw) {
			return fmt.Errorf("parameter %s: %q does not match AllowedPattern %s", name, raw, p)
		}
	}
	if lim, ok := numberAttr(decl, "MinLength"); ok && float64(len(raw)) < lim {
		return fmt.Errorf("parameter %s: %q is shorter than MinLength %v", name, raw, lim)
	}
	if lim, ok := numberAttr(decl, "MaxLength"); ok && float64(len(raw)) > lim {
		return fmt.Errorf("parameter %s: %q is longer than MaxLength %v", name, raw, lim)
	}
	return nil
}

func checkAllowedValues(name, raw string, decl map[string]any) error {
	allowed, ok := decl["AllowedValues"].([]any)
	if !ok {
		return nil
	}
	var names []string
	for _, a := range allowed {
		s, err := scalarString(a)
		if err != nil {
			return fmt.Errorf("parameter %s: AllowedValues: %w", name, err)
		}
		if s == raw {
			return nil
		}
		names = append(names, s)
	}
	return fmt.Errorf("parameter %s: %q is not one of the AllowedValues [%s]", name, raw, strings.Join(names, ", "))
}

func numberAttr(decl map[string]any, key string) (float64, bool) {
	v, ok := decl[key]
	if !ok {
		return 0, false
	}
	s, err := scalarString(v)
	if err != nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// mapAt returns tmpl[key] as a mapping; a missing section is empty.
func mapAt(tmpl map[string]any, key string) (map[string]any, error) {
	v, ok := tmpl[key]
	if !ok || v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is not a mapping", key)
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
