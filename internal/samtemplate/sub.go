package samtemplate

import (
	"fmt"
	"strings"
)

// sub evaluates Fn::Sub in its two forms: "string" and [string, {vars}].
// A variable that is neither in vars, a parameter, a pseudo parameter, a
// resource (Ref) nor a Resource.Attribute (GetAtt) is an error naming it;
// ${!Literal} stands for the literal ${Literal}.
func (e *evaluator) sub(arg any, path string) (any, error) {
	var (
		tmpl string
		vars = map[string]string{}
	)
	switch x := arg.(type) {
	case string:
		tmpl = x
	case []any:
		if len(x) != 2 {
			return nil, errf(path, "argument must be a string or [String, {Variables}]")
		}
		s, ok := x[0].(string)
		if !ok {
			return nil, errf(path+"[0]", "template is a %s, not a string", kindOf(x[0]))
		}
		tmpl = s
		m, ok := x[1].(map[string]any)
		if !ok {
			return nil, errf(path+"[1]", "variables are a %s, not a mapping", kindOf(x[1]))
		}
		for _, k := range sortedKeys(m) {
			v, err := e.evalString(m[k], path+"[1]."+k)
			if err != nil {
				return nil, err
			}
			vars[k] = v
		}
	default:
		return nil, errf(path, "argument must be a string or [String, {Variables}], not a %s", kindOf(arg))
	}
	var out strings.Builder
	rest := tmpl
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			out.WriteString(rest)
			break
		}
		out.WriteString(rest[:i])
		rest = rest[i+2:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return nil, errf(path, "unterminated ${ in %q", tmpl)
		}
		name := rest[:end]
		rest = rest[end+1:]
		if strings.HasPrefix(name, "!") {
			out.WriteString("${" + name[1:] + "}")
			continue
		}
		v, err := e.subVar(name, vars, path)
		if err != nil {
			return nil, err
		}
		out.WriteString(v)
	}
	return out.String(), nil
}

func (e *evaluator) subVar(name string, vars map[string]string, path string) (string, error) {
	name = strings.TrimSpace(name)
	if v, ok := vars[name]; ok {
		return v, nil
	}
	_, isParam := e.params[name]
	_, isPseudo := e.pseudo[name]
	_, isResource := e.resources[name]
	var (
		v   any
		err error
	)
	switch {
	case isParam || isPseudo || isResource:
		v, err = e.ref(name, path)
	case strings.Contains(name, "."):
		id, attr, _ := strings.Cut(name, ".")
		if _, ok := e.resources[id]; !ok {
			return "", errf(path, "${%s}: no resource %s", name, id)
		}
		v, err = e.getAtt(id, attr, path)
	default:
		return "", errf(path, "${%s} is not a variable of this Fn::Sub, a parameter, a pseudo parameter or a resource", name)
	}
	if err != nil {
		return "", err
	}
	s, err := scalarString(v)
	if err != nil {
		return "", errf(path, "${%s}: %v (a list parameter must go through Fn::Join)", name, err)
	}
	return s, nil
}

// substituteDefinition applies DefinitionSubstitutions to a state machine
// definition. Every ${Name} must have a substitution.
func substituteDefinition(def string, subs map[string]string) (string, error) {
	var out strings.Builder
	var missing []string
	rest := def
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			out.WriteString(rest)
			break
		}
		out.WriteString(rest[:i])
		rest = rest[i+2:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in the definition")
		}
		name := rest[:end]
		rest = rest[end+1:]
		v, ok := subs[name]
		if !ok {
			missing = append(missing, "${"+name+"}")
			continue
		}
		out.WriteString(v)
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("%s in the definition has no DefinitionSubstitution", strings.Join(missing, ", "))
	}
	return out.String(), nil
}

// definitionVariables lists the distinct ${Name} placeholders of a definition.
func definitionVariables(def string) []string {
	seen := map[string]bool{}
	var out []string
	rest := def
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			return out
		}
		rest = rest[i+2:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return out
		}
		if name := rest[:end]; !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
		rest = rest[end+1:]
	}
}
