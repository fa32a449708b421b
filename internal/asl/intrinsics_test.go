package asl

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// evalIntrinsic runs expression in a Pass state's Parameters against input.
func evalIntrinsic(t *testing.T, expression, input string) (string, error) {
	t.Helper()
	e, _ := json.Marshal(expression)
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"v.$":` + string(e) + `},"OutputPath":"$.v","End":true}}}`
	return runMachine(t, def, input, Options{})
}

func TestIntrinsicFunctions(t *testing.T) {
	input := `{"name":"node-2","n":3,"list":[1,2,2,"a",{"k":1},{"k":1}],"obj":{"a":1,"b":{"c":1}},"other":{"b":2,"d":4},
		"json":"{\"x\":[1,true,null]}","id":123456,"s":"1,2,,3"}`
	cases := []struct{ expr, want string }{
		{`States.Format('Hello, {}!', $.name)`, `"Hello, node-2!"`},
		{`States.Format('{} + {} = {}', $.n, 4, true)`, `"3 + 4 = true"`},
		{`States.Format('braces \{\} and \'quotes\' and {}', null)`, `"braces {} and 'quotes' and null"`},
		{`States.Format('obj {}', $.obj.b)`, `"obj {\"c\":1}"`},
		{`States.StringToJson($.json)`, `{"x":[1,true,null]}`},
		{`States.JsonToString($.obj)`, `"{\"a\":1,\"b\":{\"c\":1}}"`},
		{`States.Array($.id, 'x', States.Array())`, `[123456,"x",[]]`},
		{`States.ArrayPartition(States.Array(1,2,3,4,5), 2)`, `[[1,2],[3,4],[5]]`},
		{`States.ArrayContains($.list, 'a')`, `true`},
		{`States.ArrayContains($.list, 2.0)`, `true`},
		{`States.ArrayContains($.list, 9)`, `false`},
		{`States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`},
		{`States.ArrayRange(5, 1, -2)`, `[5,3,1]`},
		{`States.ArrayGetItem($.list, 3)`, `"a"`},
		{`States.ArrayLength($.list)`, `6`},
		{`States.ArrayUnique($.list)`, `[1,2,"a",{"k":1}]`},
		{`States.Base64Encode('Data to encode')`, `"RGF0YSB0byBlbmNvZGU="`},
		{`States.Base64Decode('RGF0YSB0byBlbmNvZGU=')`, `"Data to encode"`},
		{`States.Hash('input data', 'SHA-1')`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{`States.Hash('abc', 'SHA-256')`, `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`},
		{`States.Hash('abc', 'MD5')`, `"900150983cd24fb0d6963f7d28e17f72"`},
		{`States.JsonMerge($.obj, $.other, false)`, `{"a":1,"b":2,"d":4}`},
		{`States.MathAdd($.n, -5)`, `-2`},
		{`States.MathAdd(111, -1)`, `110`},
		{`States.StringSplit($.s, ',')`, `["1","2","3"]`},
		{`States.StringSplit('This.is+a,test=string', '.+,=')`, `["This","is","a","test","string"]`},
		{`States.ArrayLength(States.StringSplit(States.Format('{}-{}', $.name, 'x'), '-'))`, `3`},
		{`States.MathRandom(1, 2)`, `1`},
		{`States.ArrayGetItem($['list'], -0)`, `1`},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			out, err := evalIntrinsic(t, tc.expr, input)
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, out, tc.want)
		})
	}
}

func TestIntrinsicUUIDAndSeededRandom(t *testing.T) {
	out, err := evalIntrinsic(t, `States.UUID()`, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$`).MatchString(out) {
		t.Fatalf("not a v4 UUID: %s", out)
	}
	a, err := evalIntrinsic(t, `States.MathRandom(0, 1000000, 42)`, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := evalIntrinsic(t, `States.MathRandom(0, 1000000, 42)`, `{}`)
	if a != b {
		t.Fatalf("seeded MathRandom differs: %s vs %s", a, b)
	}
}

func TestIntrinsicFailures(t *testing.T) {
	cases := []struct{ expr, name, cause string }{
		{`States.Format('{} {}', 1)`, StatesIntrinsicFailure, "placeholders"},
		{`States.StringToJson('{bad')`, StatesIntrinsicFailure, "not JSON"},
		{`States.ArrayGetItem(States.Array(1), 5)`, StatesIntrinsicFailure, "out of range"},
		{`States.MathAdd('a', 1)`, StatesIntrinsicFailure, "must be a number"},
		{`States.MathAdd(1.5, 1)`, StatesIntrinsicFailure, "integer"},
		{`States.JsonMerge($, $, true)`, StatesIntrinsicFailure, "shallow"},
		{`States.Hash('a', 'SHA-3')`, StatesIntrinsicFailure, "unsupported hash"},
		{`States.ArrayLength($.missing)`, StatesRuntime, "$.missing"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := evalIntrinsic(t, tc.expr, `{}`)
			ee := execError(t, err)
			if ee.ErrorName != tc.name || !strings.Contains(ee.Cause, tc.cause) {
				t.Fatalf("got %+v", ee)
			}
		})
	}
}

func TestIntrinsicFailureIsCatchable(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fnArn + `f","Parameters":{"x.$":"States.StringToJson($.s)"},
		"Catch":[{"ErrorEquals":["States.IntrinsicFailure"],"ResultPath":"$.err","Next":"S"}],"End":true},"S":{"Type":"Succeed"}}}`
	out, err := runMachine(t, def, `{"s":"nope"}`, Options{Tasks: taskTable(map[string]TaskFunc{fnArn + "f": echo})})
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Err struct{ Error string } }
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Err.Error != StatesIntrinsicFailure {
		t.Fatalf("got %s (%v)", out, err)
	}
}
