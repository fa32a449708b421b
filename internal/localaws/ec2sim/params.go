package ec2sim

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/internal/localaws"
)

// params is the decoded parameter set of one EC2 Query request.
type params url.Values

// parseParams decodes the form body of a request, merged with its query
// string (EC2 accepts both).
func parseParams(r *http.Request, body []byte) (params, *localaws.APIError) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, localaws.BadRequest("InvalidParameterValue", "The request body is not a valid form: %v", err)
	}
	if r != nil && r.URL != nil {
		for k, vs := range r.URL.Query() {
			form[k] = append(form[k], vs...)
		}
	}
	return params(form), nil
}

// get returns the first value of name, or "".
func (p params) get(name string) string {
	return url.Values(p).Get(name)
}

// has reports whether name is present, even with an empty value.
func (p params) has(name string) bool {
	_, ok := p[name]
	return ok
}

// list returns the values of a flattened list: prefix.1, prefix.2, ... in
// index order. An empty list ("prefix=") gives nil.
func (p params) list(prefix string) []string {
	type entry struct {
		index int
		value string
	}
	var entries []entry
	for key, vs := range p {
		rest, ok := strings.CutPrefix(key, prefix+".")
		if !ok || len(vs) == 0 {
			continue
		}
		i, err := strconv.Atoi(rest)
		if err != nil {
			continue
		}
		entries = append(entries, entry{i, vs[0]})
	}
	sort.Slice(entries, func(a, b int) bool { return entries[a].index < entries[b].index })
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.value)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// boolean reads a boolean parameter; absent is false.
func (p params) boolean(name string) (bool, *localaws.APIError) {
	v := p.get(name)
	switch strings.ToLower(v) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, localaws.BadRequest("InvalidParameterValue", "Value (%s) for parameter %s is invalid. Expected: 'true' or 'false'.", v, lowerFirst(name))
}

// filter is one Filter.N of a describe call: the values are alternatives.
type filter struct {
	name   string
	values []string
}

// filters returns Filter.1..N in index order.
func (p params) filters() []filter {
	indexes := map[int]bool{}
	for key := range p {
		rest, ok := strings.CutPrefix(key, "Filter.")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(num); err == nil {
			indexes[i] = true
		}
	}
	ordered := make([]int, 0, len(indexes))
	for i := range indexes {
		ordered = append(ordered, i)
	}
	sort.Ints(ordered)
	var out []filter
	for _, i := range ordered {
		base := "Filter." + strconv.Itoa(i)
		out = append(out, filter{name: p.get(base + ".Name"), values: p.list(base + ".Value")})
	}
	return out
}

// lowerFirst turns a parameter name into the camelCase AWS uses in messages.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
