package ec2sim

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/internal/localaws"
)

// filterSpec lists the filters a describe call accepts for items of type T.
// Each field function returns the values an item has for that filter; an
// item matches a filter when any of its values matches any filter value.
type filterSpec[T any] struct {
	fields map[string]func(T) []string
	tags   func(T) []tagXML // nil when the resource has no tags
}

// check rejects filter names the call does not know, as EC2 does.
func (fs filterSpec[T]) check(filters []filter) *localaws.APIError {
	for _, f := range filters {
		if f.name == "" {
			return localaws.BadRequest("InvalidParameterValue", "The filter 'null' is invalid")
		}
		if _, ok := fs.fields[f.name]; ok {
			continue
		}
		if fs.tags != nil && (strings.HasPrefix(f.name, "tag:") || f.name == "tag-key" || f.name == "tag-value") {
			continue
		}
		return localaws.BadRequest("InvalidParameterValue", "The filter '%s' is invalid", f.name)
	}
	return nil
}

// match reports whether item passes every filter (filters are ANDed, the
// values of one filter ORed).
func (fs filterSpec[T]) match(item T, filters []filter) bool {
	for _, f := range filters {
		if !anyMatch(fs.values(item, f.name), f.values) {
			return false
		}
	}
	return true
}

func (fs filterSpec[T]) values(item T, name string) []string {
	if fn, ok := fs.fields[name]; ok {
		return fn(item)
	}
	var out []string
	for _, t := range fs.tags(item) {
		switch {
		case name == "tag-key":
			out = append(out, t.Key)
		case name == "tag-value":
			out = append(out, t.Value)
		case name == "tag:"+t.Key:
			out = append(out, t.Value)
		}
	}
	return out
}

// apply filters items, keeping their order.
func (fs filterSpec[T]) apply(items []T, filters []filter) []T {
	out := make([]T, 0, len(items))
	for _, it := range items {
		if fs.match(it, filters) {
			out = append(out, it)
		}
	}
	return out
}

func anyMatch(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if globMatch(w, h) {
				return true
			}
		}
	}
	return false
}

// globMatch matches s against an EC2 filter value, where * matches any run
// of characters, ? one character, and a backslash escapes either.
func globMatch(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	var match func(pi, si int) bool
	match = func(pi, si int) bool {
		for pi < len(p) {
			switch p[pi] {
			case '*':
				for k := si; k <= len(str); k++ {
					if match(pi+1, k) {
						return true
					}
				}
				return false
			case '?':
				if si >= len(str) {
					return false
				}
			case '\\':
				if pi+1 < len(p) {
					pi++
				}
				fallthrough
			default:
				if si >= len(str) || str[si] != p[pi] {
					return false
				}
			}
			pi++
			si++
		}
		return si == len(str)
	}
	return match(0, 0)
}

// page is the MaxResults/NextToken of a paginated describe call.
type page struct {
	limit  int // 0: everything
	offset int
}

// pageParams reads MaxResults and NextToken, checking MaxResults against
// the call's documented range. idsGiven rejects MaxResults combined with
// an explicit id list where AWS does (idsParam names that list).
func pageParams(p params, op string, minResults, maxResults int, idsParam string, idsGiven bool) (page, *localaws.APIError) {
	var pg page
	if raw := p.get("MaxResults"); raw != "" {
		if idsGiven && idsParam != "" {
			return pg, localaws.BadRequest("InvalidParameterCombination",
				"The parameter %s cannot be used with the parameter maxResults", idsParam)
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			return pg, localaws.BadRequest("InvalidParameterValue", "Value (%s) for parameter maxResults is invalid.", raw)
		}
		if n < minResults {
			return pg, localaws.BadRequest("InvalidParameterValue",
				"Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than %d.", n, minResults)
		}
		if n > maxResults {
			return pg, localaws.BadRequest("InvalidParameterValue",
				"Value ( %d ) for parameter maxResults is invalid. Expecting a value less than %d.", n, maxResults)
		}
		pg.limit = n
	}
	if tok := p.get("NextToken"); tok != "" {
		off, ok := decodeToken(op, tok)
		if !ok {
			return pg, localaws.BadRequest("InvalidPaginationToken", "The pagination token %s is not valid.", tok)
		}
		pg.offset = off
	}
	return pg, nil
}

// paginate cuts items to the page and returns the token of the next one.
func paginate[T any](items []T, op string, pg page) ([]T, string) {
	start := min(pg.offset, len(items))
	rest := items[start:]
	if pg.limit == 0 || len(rest) <= pg.limit {
		return rest, ""
	}
	return rest[:pg.limit], encodeToken(op, start+pg.limit)
}

// Tokens are opaque to callers; they name the operation so a token of one
// call is refused by another.
func encodeToken(op string, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(op + ":" + strconv.Itoa(offset)))
}

func decodeToken(op, tok string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	name, num, ok := strings.Cut(string(raw), ":")
	if !ok || name != op {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
