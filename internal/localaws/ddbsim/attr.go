package ddbsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Attribute value types as DynamoDB names them on the wire.
const (
	typeS    = "S"
	typeN    = "N"
	typeB    = "B"
	typeBOOL = "BOOL"
	typeNULL = "NULL"
	typeM    = "M"
	typeL    = "L"
	typeSS   = "SS"
	typeNS   = "NS"
	typeBS   = "BS"
)

// attr is one attribute value. Scalars keep their value in s (S, the
// canonical decimal form of N, the raw bytes of B) or b (BOOL); sets keep
// their members in set (canonical, unique, in the order given).
type attr struct {
	typ string
	s   string
	b   bool
	m   map[string]*attr
	l   []*attr
	set []string
}

// item is a stored item or a key: attribute name to value.
type item map[string]*attr

func (a *attr) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return validation("Supplied AttributeValue is not a JSON object: %v", err)
	}
	if len(raw) != 1 {
		return validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	for typ, body := range raw {
		return a.decode(typ, body)
	}
	return nil
}

func (a *attr) decode(typ string, body json.RawMessage) error {
	a.typ = typ
	switch typ {
	case typeS:
		return json.Unmarshal(body, &a.s)
	case typeN:
		var s string
		if err := json.Unmarshal(body, &s); err != nil {
			return err
		}
		n, err := canonicalNumber(s)
		a.s = n
		return err
	case typeB:
		var enc string
		if err := json.Unmarshal(body, &enc); err != nil {
			return err
		}
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return validation("Invalid Binary value: %v", err)
		}
		a.s = string(raw)
		return nil
	case typeBOOL:
		return json.Unmarshal(body, &a.b)
	case typeNULL:
		if err := json.Unmarshal(body, &a.b); err != nil {
			return err
		}
		if !a.b {
			return validation("One or more parameter values were invalid: Null attribute value types must have the value of true")
		}
		return nil
	case typeM:
		a.m = map[string]*attr{}
		return json.Unmarshal(body, &a.m)
	case typeL:
		a.l = []*attr{}
		return json.Unmarshal(body, &a.l)
	case typeSS, typeNS, typeBS:
		return a.decodeSet(typ, body)
	}
	return validation("Supplied AttributeValue has an unknown datatype %q", typ)
}

func (a *attr) decodeSet(typ string, body json.RawMessage) error {
	var members []string
	if err := json.Unmarshal(body, &members); err != nil {
		return err
	}
	if len(members) == 0 {
		return validation("One or more parameter values were invalid: An %s may not be empty", setName(typ))
	}
	seen := map[string]bool{}
	for _, m := range members {
		switch typ {
		case typeNS:
			n, err := canonicalNumber(m)
			if err != nil {
				return err
			}
			m = n
		case typeBS:
			raw, err := base64.StdEncoding.DecodeString(m)
			if err != nil {
				return validation("Invalid Binary value: %v", err)
			}
			m = string(raw)
		}
		if seen[m] {
			return validation("One or more parameter values were invalid: Input collection %v contains duplicates.", members)
		}
		seen[m] = true
		a.set = append(a.set, m)
	}
	return nil
}

func setName(typ string) string {
	switch typ {
	case typeNS:
		return "number set"
	case typeBS:
		return "binary set"
	}
	return "string set"
}

func (a *attr) MarshalJSON() ([]byte, error) {
	var v any
	switch a.typ {
	case typeS, typeN:
		v = a.s
	case typeB:
		v = base64.StdEncoding.EncodeToString([]byte(a.s))
	case typeBOOL, typeNULL:
		v = a.b
	case typeM:
		v = a.m
	case typeL:
		v = a.l
	case typeSS, typeNS:
		v = a.set
	case typeBS:
		enc := make([]string, len(a.set))
		for i, m := range a.set {
			enc[i] = base64.StdEncoding.EncodeToString([]byte(m))
		}
		v = enc
	default:
		return nil, fmt.Errorf("attribute value of unknown type %q", a.typ)
	}
	return json.Marshal(map[string]any{a.typ: v})
}

// clone returns a deep copy, so stored items never share structure with
// request values or responses.
func (a *attr) clone() *attr {
	if a == nil {
		return nil
	}
	c := &attr{typ: a.typ, s: a.s, b: a.b}
	if a.m != nil {
		c.m = make(map[string]*attr, len(a.m))
		for k, v := range a.m {
			c.m[k] = v.clone()
		}
	}
	if a.l != nil {
		c.l = make([]*attr, len(a.l))
		for i, v := range a.l {
			c.l[i] = v.clone()
		}
	}
	c.set = slices.Clone(a.set)
	return c
}

func (it item) clone() item {
	if it == nil {
		return nil
	}
	c := make(item, len(it))
	for k, v := range it {
		c[k] = v.clone()
	}
	return c
}

// equal is DynamoDB's equality: same type and value; sets compare as sets,
// numbers numerically (their canonical forms are equal exactly then).
func (a *attr) equal(b *attr) bool {
	if a == nil || b == nil || a.typ != b.typ {
		return false
	}
	switch a.typ {
	case typeM:
		if len(a.m) != len(b.m) {
			return false
		}
		for k, v := range a.m {
			if !v.equal(b.m[k]) {
				return false
			}
		}
		return true
	case typeL:
		return slices.EqualFunc(a.l, b.l, (*attr).equal)
	case typeSS, typeNS, typeBS:
		if len(a.set) != len(b.set) {
			return false
		}
		for _, m := range a.set {
			if !slices.Contains(b.set, m) {
				return false
			}
		}
		return true
	}
	return a.s == b.s && a.b == b.b
}

// ordered reports whether values of the type can be compared with <, >,
// BETWEEN: numbers, strings and binaries.
func ordered(typ string) bool { return typ == typeS || typ == typeN || typ == typeB }

// compare orders two values of the same ordered type: -1, 0 or +1.
func compare(a, b *attr) int {
	if a.typ == typeN {
		return parseNumber(a.s).Cmp(parseNumber(b.s))
	}
	return bytes.Compare([]byte(a.s), []byte(b.s))
}

var numberSyntax = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// canonicalNumber validates a DynamoDB number and returns its canonical
// decimal form ("1.50" → "1.5", "1e2" → "100").
func canonicalNumber(s string) (string, error) {
	t := strings.TrimSpace(s)
	if !numberSyntax.MatchString(t) {
		return "", validation("A value provided cannot be converted into a number")
	}
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		exp, err := strconv.Atoi(t[i+1:])
		if err != nil || exp > 125 || exp < -130 {
			return "", validation("Number overflow. Attempting to store a number with magnitude larger than supported range")
		}
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok {
		return "", validation("A value provided cannot be converted into a number")
	}
	return formatNumber(r), nil
}

// parseNumber parses a canonical number; stored numbers always parse.
func parseNumber(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return new(big.Rat)
	}
	return r
}

// formatNumber writes r as a plain decimal without trailing zeros. Sums and
// differences of decimals are decimals, so a finite scale always exists.
func formatNumber(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	scaled := new(big.Rat).Set(r)
	ten := big.NewRat(10, 1)
	for prec := 1; prec <= 400; prec++ {
		scaled.Mul(scaled, ten)
		if scaled.IsInt() {
			return r.FloatString(prec)
		}
	}
	return r.FloatString(38)
}

// size is DynamoDB's size(): length of a string or binary, members of a
// set, entries of a map or list.
func (a *attr) size() (int, bool) {
	switch a.typ {
	case typeS, typeB:
		return len(a.s), true
	case typeSS, typeNS, typeBS:
		return len(a.set), true
	case typeM:
		return len(a.m), true
	case typeL:
		return len(a.l), true
	}
	return 0, false
}
