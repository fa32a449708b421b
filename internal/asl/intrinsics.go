package asl

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"strings"
)

// maxArrayRange is Step Functions' limit on the size of States.ArrayRange.
const maxArrayRange = 1000

var intrinsics = map[string]intrinsic{
	"States.Format":         {1, -1, fnFormat},
	"States.StringToJson":   {1, 1, fnStringToJSON},
	"States.JsonToString":   {1, 1, fnJSONToString},
	"States.Array":          {0, -1, fnArray},
	"States.ArrayPartition": {2, 2, fnArrayPartition},
	"States.ArrayContains":  {2, 2, fnArrayContains},
	"States.ArrayRange":     {3, 3, fnArrayRange},
	"States.ArrayGetItem":   {2, 2, fnArrayGetItem},
	"States.ArrayLength":    {1, 1, fnArrayLength},
	"States.ArrayUnique":    {1, 1, fnArrayUnique},
	"States.Base64Encode":   {1, 1, fnBase64Encode},
	"States.Base64Decode":   {1, 1, fnBase64Decode},
	"States.Hash":           {2, 2, fnHash},
	"States.JsonMerge":      {3, 3, fnJSONMerge},
	"States.MathRandom":     {2, 3, fnMathRandom},
	"States.MathAdd":        {2, 2, fnMathAdd},
	"States.StringSplit":    {2, 2, fnStringSplit},
	"States.UUID":           {0, 0, fnUUID},
}

func argString(args []any, i int) (string, error) {
	s, ok := args[i].(string)
	if !ok {
		return "", fmt.Errorf("argument %d must be a string, got %s", i+1, typeName(args[i]))
	}
	return s, nil
}

func argArray(args []any, i int) ([]any, error) {
	a, ok := args[i].([]any)
	if !ok {
		return nil, fmt.Errorf("argument %d must be an array, got %s", i+1, typeName(args[i]))
	}
	return a, nil
}

func argInt(args []any, i int) (int64, error) {
	n, ok := args[i].(json.Number)
	if !ok {
		return 0, fmt.Errorf("argument %d must be a number, got %s", i+1, typeName(args[i]))
	}
	if v, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt64/2 {
		return 0, fmt.Errorf("argument %d must be an integer, got %s", i+1, n)
	}
	return int64(f), nil
}

func number(i int64) json.Number { return json.Number(strconv.FormatInt(i, 10)) }

func fnFormat(c *callExpr, args []any) (any, error) {
	tmpl, err := argString(args, 0)
	if err != nil {
		return nil, err
	}
	escaped := false
	if lit, ok := c.args[0].(*literalExpr); ok {
		tmpl, escaped = lit.raw, true
	}
	vals := args[1:]
	var b strings.Builder
	n := 0
	for i := 0; i < len(tmpl); i++ {
		ch := tmpl[i]
		switch {
		case escaped && ch == '\\' && i+1 < len(tmpl):
			i++
			b.WriteByte(tmpl[i])
		case ch == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}':
			if n < len(vals) {
				b.WriteString(formatArg(vals[n]))
			}
			n++
			i++
		default:
			b.WriteByte(ch)
		}
	}
	if n != len(vals) {
		return nil, fmt.Errorf("the template has %d placeholders but %d values were given", n, len(vals))
	}
	return b.String(), nil
}

func formatArg(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	}
	return jsonText(v)
}

func fnStringToJSON(_ *callExpr, args []any) (any, error) {
	s, err := argString(args, 0)
	if err != nil {
		return nil, err
	}
	v, err := decodeValue([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("the string is not JSON: %v", err)
	}
	return v, nil
}

func fnJSONToString(_ *callExpr, args []any) (any, error) { return jsonText(args[0]), nil }

func fnArray(_ *callExpr, args []any) (any, error) { return append([]any{}, args...), nil }

func fnArrayPartition(_ *callExpr, args []any) (any, error) {
	arr, err := argArray(args, 0)
	if err != nil {
		return nil, err
	}
	size, err := argInt(args, 1)
	if err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, fmt.Errorf("the chunk size must be positive, got %d", size)
	}
	out := []any{}
	for len(arr) > 0 {
		n := min(int64(len(arr)), size)
		out = append(out, append([]any{}, arr[:n]...))
		arr = arr[n:]
	}
	return out, nil
}

func fnArrayContains(_ *callExpr, args []any) (any, error) {
	arr, err := argArray(args, 0)
	if err != nil {
		return nil, err
	}
	for _, v := range arr {
		if jsonEqual(v, args[1]) {
			return true, nil
		}
	}
	return false, nil
}

func fnArrayRange(_ *callExpr, args []any) (any, error) {
	var n [3]int64
	for i := range n {
		v, err := argInt(args, i)
		if err != nil {
			return nil, err
		}
		n[i] = v
	}
	start, end, step := n[0], n[1], n[2]
	if step == 0 {
		return nil, fmt.Errorf("the step must not be 0")
	}
	out := []any{}
	for v := start; (step > 0 && v <= end) || (step < 0 && v >= end); v += step {
		if len(out) == maxArrayRange {
			return nil, fmt.Errorf("the range has more than %d items", maxArrayRange)
		}
		out = append(out, number(v))
	}
	return out, nil
}

func fnArrayGetItem(_ *callExpr, args []any) (any, error) {
	arr, err := argArray(args, 0)
	if err != nil {
		return nil, err
	}
	i, err := argInt(args, 1)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= int64(len(arr)) {
		return nil, fmt.Errorf("index %d is out of range for an array of %d", i, len(arr))
	}
	return arr[i], nil
}

func fnArrayLength(_ *callExpr, args []any) (any, error) {
	arr, err := argArray(args, 0)
	if err != nil {
		return nil, err
	}
	return number(int64(len(arr))), nil
}

func fnArrayUnique(_ *callExpr, args []any) (any, error) {
	arr, err := argArray(args, 0)
	if err != nil {
		return nil, err
	}
	out := []any{}
next:
	for _, v := range arr {
		for _, w := range out {
			if jsonEqual(v, w) {
				continue next
			}
		}
		out = append(out, v)
	}
	return out, nil
}

func fnBase64Encode(_ *callExpr, args []any) (any, error) {
	s, err := argString(args, 0)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func fnBase64Decode(_ *callExpr, args []any) (any, error) {
	s, err := argString(args, 0)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64: %v", err)
	}
	return string(b), nil
}

func fnHash(_ *callExpr, args []any) (any, error) {
	data, ok := args[0].(string)
	if !ok {
		data = jsonText(args[0])
	}
	algo, err := argString(args, 1)
	if err != nil {
		return nil, err
	}
	var h hash.Hash
	switch algo {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		return nil, fmt.Errorf("unsupported hash algorithm %q (MD5, SHA-1, SHA-256, SHA-384, SHA-512)", algo)
	}
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fnJSONMerge(_ *callExpr, args []any) (any, error) {
	a, ok1 := args[0].(map[string]any)
	b, ok2 := args[1].(map[string]any)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("both values to merge must be objects, got %s and %s", typeName(args[0]), typeName(args[1]))
	}
	if deep, ok := args[2].(bool); !ok || deep {
		return nil, fmt.Errorf("the third argument must be false: only shallow merges are supported")
	}
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out, nil
}

func fnMathRandom(_ *callExpr, args []any) (any, error) {
	start, err := argInt(args, 0)
	if err != nil {
		return nil, err
	}
	end, err := argInt(args, 1)
	if err != nil {
		return nil, err
	}
	if end <= start {
		return nil, fmt.Errorf("the end %d must be greater than the start %d", end, start)
	}
	rnd := mrand.Int64N
	if len(args) == 3 {
		seed, err := argInt(args, 2)
		if err != nil {
			return nil, err
		}
		rnd = mrand.New(mrand.NewPCG(uint64(seed), 0)).Int64N
	}
	return number(start + rnd(end-start)), nil
}

func fnMathAdd(_ *callExpr, args []any) (any, error) {
	a, err := argInt(args, 0)
	if err != nil {
		return nil, err
	}
	b, err := argInt(args, 1)
	if err != nil {
		return nil, err
	}
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return nil, fmt.Errorf("%d + %d overflows", a, b)
	}
	return number(a + b), nil
}

func fnStringSplit(_ *callExpr, args []any) (any, error) {
	s, err := argString(args, 0)
	if err != nil {
		return nil, err
	}
	delims, err := argString(args, 1)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) }) {
		out = append(out, part)
	}
	return out, nil
}

func fnUUID(*callExpr, []any) (any, error) { return newUUID(), nil }

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
