package agent

import "testing"

func TestOnlyBadNewsPublishesEpisodesAndTheirEnd(t *testing.T) {
	var n onlyBadNews
	var got []bool
	for _, bad := range []bool{false, false, true, true, false, false, true, false} {
		got = append(got, n.publish(bad))
	}
	want := []bool{false, false, true, true, true, false, true, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("published %v, want %v", got, want)
		}
	}
}
