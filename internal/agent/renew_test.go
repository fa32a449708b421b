package agent

import (
	"testing"
	"time"
)

func TestRenewDueEverySecondLoop(t *testing.T) {
	renew, loop := 2*time.Second, time.Second
	for _, c := range []struct {
		since time.Duration
		want  bool
	}{
		{time.Second, false},
		{1990 * time.Millisecond, true}, // the second loop, started a moment early
		{2 * time.Second, true},
		{1400 * time.Millisecond, false},
	} {
		if got := renewDue(c.since, renew, loop); got != c.want {
			t.Errorf("renewDue(%s) = %v, want %v", c.since, got, c.want)
		}
	}
	if !renewDue(time.Second, time.Second, time.Second) {
		t.Error("a renewal as often as the loop is due every loop")
	}
}
