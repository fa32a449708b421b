package asl

import (
	"fmt"
	"strconv"
	"strings"
)

type segKind uint8

const (
	segField    segKind = iota // .name or ['name']
	segIndex                   // [n]; negative counts from the end when reading
	segWildcard                // .* or [*]
)

type segment struct {
	kind  segKind
	name  string
	index int
}

// jsonPath is a compiled JSONPath of the subset Step Functions definitions
// use: $ or $$ (the context object) followed by .name, ['name'], ["name"],
// [n], [*] and .* segments. Filters, slices, unions and recursive descent
// are rejected at parse time.
type jsonPath struct {
	text    string
	context bool
	segs    []segment
}

var rootPath = &jsonPath{text: "$"}

func parsePath(text string) (*jsonPath, error) {
	p := &jsonPath{text: text}
	rest := text
	switch {
	case strings.HasPrefix(rest, "$$"):
		p.context = true
		rest = rest[2:]
	case strings.HasPrefix(rest, "$"):
		rest = rest[1:]
	default:
		return nil, fmt.Errorf("path %q must begin with '$'", text)
	}
	for rest != "" {
		var err error
		switch rest[0] {
		case '.':
			rest, err = p.parseDot(rest[1:])
		case '[':
			rest, err = p.parseBracket(rest[1:])
		default:
			err = fmt.Errorf("unexpected %q", rest[0])
		}
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", text, err)
		}
	}
	return p, nil
}

func (p *jsonPath) parseDot(rest string) (string, error) {
	if strings.HasPrefix(rest, ".") {
		return "", fmt.Errorf("recursive descent '..' is not supported")
	}
	if strings.HasPrefix(rest, "*") {
		p.segs = append(p.segs, segment{kind: segWildcard})
		return rest[1:], nil
	}
	end := strings.IndexAny(rest, ".[")
	if end < 0 {
		end = len(rest)
	}
	name := rest[:end]
	if name == "" {
		return "", fmt.Errorf("empty field name")
	}
	if strings.ContainsAny(name, "]'\"()?@*,: \t\r\n") {
		return "", fmt.Errorf("field name %q needs bracket notation or uses unsupported syntax", name)
	}
	p.segs = append(p.segs, segment{kind: segField, name: name})
	return rest[end:], nil
}

func (p *jsonPath) parseBracket(rest string) (string, error) {
	switch {
	case strings.HasPrefix(rest, "*]"):
		p.segs = append(p.segs, segment{kind: segWildcard})
		return rest[2:], nil
	case strings.HasPrefix(rest, "'"), strings.HasPrefix(rest, `"`):
		name, n, err := scanQuoted(rest)
		if err != nil {
			return "", err
		}
		rest = rest[n:]
		if !strings.HasPrefix(rest, "]") {
			return "", fmt.Errorf("expected ']' after [%s", rest[:n])
		}
		p.segs = append(p.segs, segment{kind: segField, name: name})
		return rest[1:], nil
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return "", fmt.Errorf("missing ']'")
	}
	idx, err := strconv.Atoi(rest[:end])
	if err != nil {
		return "", fmt.Errorf("unsupported subscript [%s] (only [n], [*] and ['name'] are supported)", rest[:end])
	}
	p.segs = append(p.segs, segment{kind: segIndex, index: idx})
	return rest[end+1:], nil
}

// scanQuoted reads a quoted name starting at s[0] (' or "); a backslash
// escapes the next character. It returns the name and the bytes consumed.
func scanQuoted(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unterminated quoted name")
			}
			i++
			b.WriteByte(s[i])
		case q:
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("unterminated quoted name")
}

// definite reports whether the path selects at most one value.
func (p *jsonPath) definite() bool {
	for _, s := range p.segs {
		if s.kind == segWildcard {
			return false
		}
	}
	return true
}

// isReference reports whether p is a Reference Path (usable as ResultPath):
// no context object, no wildcard, no negative index.
func (p *jsonPath) isReference() bool {
	if p.context {
		return false
	}
	for _, s := range p.segs {
		if s.kind == segWildcard || (s.kind == segIndex && s.index < 0) {
			return false
		}
	}
	return true
}

// lookup applies p to root. A definite path yields the value it names or
// found=false; an indefinite path always yields the (possibly empty) array of
// the values it selects.
func (p *jsonPath) lookup(root any) (value any, found bool) {
	if p.definite() {
		cur := root
		for _, s := range p.segs {
			next, ok := stepInto(cur, s)
			if !ok {
				return nil, false
			}
			cur = next
		}
		return cur, true
	}
	cur := []any{root}
	for _, s := range p.segs {
		var next []any
		for _, v := range cur {
			if s.kind != segWildcard {
				if w, ok := stepInto(v, s); ok {
					next = append(next, w)
				}
				continue
			}
			switch c := v.(type) {
			case []any:
				next = append(next, c...)
			case map[string]any:
				for _, k := range sortedKeys(c) {
					next = append(next, c[k])
				}
			}
		}
		cur = next
	}
	if cur == nil {
		cur = []any{}
	}
	return cur, true
}

func stepInto(v any, s segment) (any, bool) {
	switch s.kind {
	case segField:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		w, ok := m[s.name]
		return w, ok
	case segIndex:
		a, ok := v.([]any)
		if !ok {
			return nil, false
		}
		i := s.index
		if i < 0 {
			i += len(a)
		}
		if i < 0 || i >= len(a) {
			return nil, false
		}
		return a[i], true
	}
	return nil, false
}

// set returns a copy of root with v placed at p (a Reference Path). Objects on
// the way are copied, never modified, so values shared between concurrent
// branches stay intact; missing objects are created.
func (p *jsonPath) set(root, v any) (any, error) {
	return setSegs(root, p.segs, v)
}

func setSegs(cur any, segs []segment, v any) (any, error) {
	if len(segs) == 0 {
		return v, nil
	}
	s := segs[0]
	switch s.kind {
	case segField:
		var src map[string]any
		switch c := cur.(type) {
		case map[string]any:
			src = c
		case nil:
		default:
			return nil, fmt.Errorf("cannot set field %q in a %s", s.name, typeName(cur))
		}
		child, err := setSegs(src[s.name], segs[1:], v)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(src)+1)
		for k, w := range src {
			out[k] = w
		}
		out[s.name] = child
		return out, nil
	case segIndex:
		a, ok := cur.([]any)
		if !ok {
			return nil, fmt.Errorf("cannot set index [%d] in a %s", s.index, typeName(cur))
		}
		if s.index < 0 || s.index >= len(a) {
			return nil, fmt.Errorf("index [%d] is out of range for an array of %d", s.index, len(a))
		}
		child, err := setSegs(a[s.index], segs[1:], v)
		if err != nil {
			return nil, err
		}
		out := append([]any(nil), a...)
		out[s.index] = child
		return out, nil
	}
	return nil, fmt.Errorf("wildcards cannot be set")
}
