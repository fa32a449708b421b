package pgnode

import (
	"encoding/json"
	"testing"
)

func TestParseLSNRoundTrip(t *testing.T) {
	cases := []struct {
		in   string
		want LSN
		out  string
	}{
		{"0/0", 0, "0/0"},
		{"16/B374D848", 0x16_B374D848, "16/B374D848"},
		{"16/b374d848", 0x16_B374D848, "16/B374D848"},
		{"0/0000ABCD", 0xABCD, "0/ABCD"},
		{"FFFFFFFF/FFFFFFFF", ^LSN(0), "FFFFFFFF/FFFFFFFF"},
		{"1/0", 1 << 32, "1/0"},
	}
	for _, c := range cases {
		got, err := ParseLSN(c.in)
		if err != nil {
			t.Fatalf("ParseLSN(%q): %v", c.in, err)
		}
		if got != c.want {
			t.Errorf("ParseLSN(%q) = %#x, want %#x", c.in, uint64(got), uint64(c.want))
		}
		if got.String() != c.out {
			t.Errorf("ParseLSN(%q).String() = %q, want %q", c.in, got.String(), c.out)
		}
	}
}

func TestParseLSNRejectsMalformed(t *testing.T) {
	for _, in := range []string{"", "0", "/0", "0/", "G/0", "0/1G", "123456789/0", "0/123456789", "+1/0", "-1/0", "0/-1", "0x1/0", "1/2/3", " 1/2"} {
		if l, err := ParseLSN(in); err == nil {
			t.Errorf("ParseLSN(%q) = %v, want an error", in, l)
		}
	}
}

func TestLSNArithmetic(t *testing.T) {
	a := MustParseLSN("1/FFFFFF00")
	b := MustParseLSN("2/100")
	if d := b.Sub(a); d != 0x200 {
		t.Errorf("b.Sub(a) = %d, want 512 (the difference crosses a 4 GiB boundary)", d)
	}
	if d := a.Sub(b); d != -0x200 {
		t.Errorf("a.Sub(b) = %d, want -512", d)
	}
	if got := a.Add(0x200); got != b {
		t.Errorf("a.Add(512) = %v, want %v", got, b)
	}
	if got := b.Add(-0x200); got != a {
		t.Errorf("b.Add(-512) = %v, want %v", got, a)
	}
	if a.Max(b) != b || b.Max(a) != b {
		t.Errorf("Max picks the earlier position")
	}
	if InvalidLSN.IsValid() || !a.IsValid() {
		t.Errorf("IsValid wrong")
	}
}

func TestLSNJSON(t *testing.T) {
	type payload struct {
		Final LSN `json:"final"`
	}
	data, err := json.Marshal(payload{Final: MustParseLSN("16/B374D848")})
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"final":"16/B374D848"}` {
		t.Fatalf("marshalled %s", data)
	}
	var back payload
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Final != MustParseLSN("16/B374D848") {
		t.Fatalf("round trip gave %v", back.Final)
	}
	if err := json.Unmarshal([]byte(`{"final":"nonsense"}`), &back); err == nil {
		t.Fatal("malformed LSN accepted")
	}
	if err := json.Unmarshal([]byte(`{"final":""}`), &back); err != nil || back.Final != InvalidLSN {
		t.Fatalf("empty LSN: %v %v", back.Final, err)
	}
}
