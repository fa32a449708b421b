package snssim

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/internal/localaws"
)

// params is the decoded parameter set of one query-protocol request.
type params url.Values

// parseParams decodes the form body of a request, merged with its query
// string (the query protocol accepts both).
func parseParams(r *http.Request, body []byte) (params, *localaws.APIError) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, invalidParameter("the request body is not a valid form: %v", err)
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

// lookup returns the first value of name and whether it is present, even
// with an empty value.
func (p params) lookup(name string) (string, bool) {
	vs, ok := p[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// boolean reads a boolean parameter; absent is false.
func (p params) boolean(name string) (bool, *localaws.APIError) {
	switch v := strings.ToLower(p.get(name)); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, invalidParameter("%s", name)
}

// entryIndexes returns, sorted, the indexes N of the prefix.entry.N.*
// parameters: the entries of a query-protocol map.
func (p params) entryIndexes(prefix string) []int {
	seen := map[int]bool{}
	for key := range p {
		rest, ok := strings.CutPrefix(key, prefix+".entry.")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(num); err == nil && i > 0 {
			seen[i] = true
		}
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// stringMap decodes a map of strings serialized as
// prefix.entry.N.key / prefix.entry.N.value (topic and subscription
// attributes). An entry without a key is refused.
func (p params) stringMap(prefix string) (map[string]string, *localaws.APIError) {
	out := map[string]string{}
	for _, i := range p.entryIndexes(prefix) {
		base := prefix + ".entry." + strconv.Itoa(i)
		key := p.get(base + ".key")
		if key == "" {
			return nil, invalidParameter("%s Reason: entry %d has no key", prefix, i)
		}
		out[key] = p.get(base + ".value")
	}
	return out, nil
}

// messageAttribute is one entry of Publish's MessageAttributes.
type messageAttribute struct {
	name, dataType, stringValue string
	binaryValue                 []byte
}

// size is what the attribute adds to the message size: SNS counts its
// name, its data type and its value.
func (a messageAttribute) size() int {
	return len(a.name) + len(a.dataType) + len(a.stringValue) + len(a.binaryValue)
}

// messageAttributes decodes MessageAttributes.entry.N.Name and
// MessageAttributes.entry.N.Value.{DataType,StringValue,BinaryValue}. The
// emulator does not check data types against values: attributes are read
// only to be counted in the message size.
func (p params) messageAttributes() ([]messageAttribute, *localaws.APIError) {
	var out []messageAttribute
	for _, i := range p.entryIndexes("MessageAttributes") {
		base := "MessageAttributes.entry." + strconv.Itoa(i)
		a := messageAttribute{
			name:        p.get(base + ".Name"),
			dataType:    p.get(base + ".Value.DataType"),
			stringValue: p.get(base + ".Value.StringValue"),
		}
		if a.name == "" {
			return nil, invalidParameter("MessageAttributes Reason: message attribute %d has no name", i)
		}
		if b64 := p.get(base + ".Value.BinaryValue"); b64 != "" {
			bin, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				return nil, invalidParameter("MessageAttributes Reason: the BinaryValue of message attribute %q is not base64: %v", a.name, err)
			}
			a.binaryValue = bin
		}
		out = append(out, a)
	}
	return out, nil
}
