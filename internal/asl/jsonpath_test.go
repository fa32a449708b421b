package asl

import (
	"testing"
)

func TestPathLookup(t *testing.T) {
	doc, err := decodeValue([]byte(`{"a":{"b":[{"c":1},{"c":2},{"d":3}]},"odd key":{"x.y":5},"n":null}`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path  string
		want  string
		found bool
	}{
		{"$", `{"a":{"b":[{"c":1},{"c":2},{"d":3}]},"n":null,"odd key":{"x.y":5}}`, true},
		{"$.a.b[1].c", `2`, true},
		{"$['a']['b'][0]", `{"c":1}`, true},
		{`$["odd key"]['x.y']`, `5`, true},
		{"$.a.b[-1].d", `3`, true},
		{"$.a.b[*].c", `[1,2]`, true},
		{"$.a.b[3]", ``, false},
		{"$.a.x", ``, false},
		{"$.n", `null`, true},
		{"$.n.x", ``, false},
		{"$.a.b.c", ``, false},
		{"$.missing[*]", `[]`, true},
		{"$.a.*", `[[{"c":1},{"c":2},{"d":3}]]`, true},
	}
	for _, tc := range cases {
		p, err := parsePath(tc.path)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		v, found := p.lookup(doc)
		if found != tc.found {
			t.Fatalf("%s: found=%v, want %v", tc.path, found, tc.found)
		}
		if found && jsonText(v) != tc.want {
			t.Fatalf("%s: got %s, want %s", tc.path, jsonText(v), tc.want)
		}
	}
}

func TestPathParseErrors(t *testing.T) {
	for _, bad := range []string{"a", "$..a", "$.a[?(@.b)]", "$.a[0:2]", "$.a[", "$['a", "$.", "$.a b", "$.length()"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestPathSetCopiesOnWrite(t *testing.T) {
	orig, _ := decodeValue([]byte(`{"a":{"b":1,"list":[1,2]},"c":3}`))
	before := jsonText(orig)
	for _, tc := range []struct{ path, want string }{
		{"$", `"v"`},
		{"$.a.b", `{"a":{"b":"v","list":[1,2]},"c":3}`},
		{"$.a.list[0]", `{"a":{"b":1,"list":["v",2]},"c":3}`},
		{"$.x.y", `{"a":{"b":1,"list":[1,2]},"c":3,"x":{"y":"v"}}`},
	} {
		p, _ := parsePath(tc.path)
		got, err := p.set(orig, "v")
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if jsonText(got) != tc.want {
			t.Fatalf("%s: got %s, want %s", tc.path, jsonText(got), tc.want)
		}
	}
	if jsonText(orig) != before {
		t.Fatalf("set modified its input: %s", jsonText(orig))
	}
	for _, bad := range []string{"$.c.d", "$.a.list[5]", "$.a.b[0]"} {
		p, _ := parsePath(bad)
		if _, err := p.set(orig, 1); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}
