package samtemplate

// reader reads typed properties from an evaluated mapping and keeps the
// first error, which names the property's template path.
type reader struct {
	m    map[string]any
	path string
	err  error
}

func (r *reader) fail(key, format string, args ...any) {
	if r.err == nil {
		r.err = errf(r.path+"."+key, format, args...)
	}
}

func (r *reader) has(key string) bool {
	_, ok := r.m[key]
	return ok
}

// str returns a scalar property as a string ("" if absent).
func (r *reader) str(key string) string {
	v, ok := r.m[key]
	if !ok {
		return ""
	}
	s, err := scalarString(v)
	if err != nil {
		r.fail(key, "%v", err)
	}
	return s
}

// required is str for a property that must be present and not empty.
func (r *reader) required(key string) string {
	if !r.has(key) {
		r.fail(key, "missing")
		return ""
	}
	s := r.str(key)
	if s == "" {
		r.fail(key, "is empty")
	}
	return s
}

func (r *reader) intOr(key string, def int) int {
	v, ok := r.m[key]
	if !ok {
		return def
	}
	n, err := toInt(v)
	if err != nil {
		r.fail(key, "%v", err)
	}
	return n
}

func (r *reader) float(key string) float64 {
	v, ok := r.m[key]
	if !ok {
		r.fail(key, "missing")
		return 0
	}
	f, err := toFloat(v)
	if err != nil {
		r.fail(key, "%v", err)
	}
	return f
}

func (r *reader) boolOr(key string, def bool) bool {
	v, ok := r.m[key]
	if !ok {
		return def
	}
	b, err := toBool(v)
	if err != nil {
		r.fail(key, "%v", err)
	}
	return b
}

func (r *reader) strList(key string) []string {
	v, ok := r.m[key]
	if !ok {
		return nil
	}
	l, err := toStringList(v)
	if err != nil {
		r.fail(key, "%v", err)
	}
	return l
}

// strMap returns a mapping of scalars as strings.
func (r *reader) strMap(key string) map[string]string {
	v, ok := r.m[key]
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		r.fail(key, "is a %s, not a mapping", kindOf(v))
		return nil
	}
	out := make(map[string]string, len(m))
	for k, val := range m {
		s, err := scalarString(val)
		if err != nil {
			r.fail(key+"."+k, "%v", err)
		}
		out[k] = s
	}
	return out
}

// sub returns a nested mapping as a reader (an empty one if absent).
func (r *reader) sub(key string) *reader {
	child := &reader{m: map[string]any{}, path: r.path + "." + key}
	v, ok := r.m[key]
	if !ok {
		return child
	}
	m, ok := v.(map[string]any)
	if !ok {
		r.fail(key, "is a %s, not a mapping", kindOf(v))
		return child
	}
	child.m = m
	return child
}

// list returns a list of mappings as readers.
func (r *reader) list(key string) []*reader {
	v, ok := r.m[key]
	if !ok {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		r.fail(key, "is a %s, not a list", kindOf(v))
		return nil
	}
	out := make([]*reader, 0, len(l))
	for i, item := range l {
		m, ok := item.(map[string]any)
		if !ok {
			r.fail(key, "[%d] is a %s, not a mapping", i, kindOf(item))
			continue
		}
		out = append(out, &reader{m: m, path: r.path + "." + key + "[" + itoa(i) + "]"})
	}
	return out
}

// collect returns the first error of r or of any of the children.
func collect(rs ...*reader) error {
	for _, r := range rs {
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

func itoa(i int) string {
	s, _ := scalarString(i)
	return s
}
