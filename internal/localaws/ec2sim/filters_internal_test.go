package ec2sim

import "testing"

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"node1", "node1", true},
		{"node1", "node10", false},
		{"node*", "node10", true},
		{"*", "", true},
		{"*-a2", "private-a2", true},
		{"private-?2", "private-c2", true},
		{"private-?2", "private-c12", false},
		{`star\*`, "star*", true},
		{`star\*`, "starry", false},
		{"10.0.*.10", "10.0.2.10", true},
	}
	for _, tc := range cases {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestPageTokensAreBoundToTheOperation(t *testing.T) {
	tok := encodeToken("DescribeRouteTables", 5)
	if off, ok := decodeToken("DescribeRouteTables", tok); !ok || off != 5 {
		t.Fatalf("decodeToken = %d %v", off, ok)
	}
	if _, ok := decodeToken("DescribeInstances", tok); ok {
		t.Error("a DescribeRouteTables token was accepted by DescribeInstances")
	}
}

func TestAZID(t *testing.T) {
	for az, want := range map[string]string{"us-east-1a": "use1-az1", "us-east-1c": "use1-az3", "eu-west-1b": "euw1-az2"} {
		if got := azID(az); got != want {
			t.Errorf("azID(%s) = %s, want %s", az, got, want)
		}
	}
}
