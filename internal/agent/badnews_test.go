package agent

import (
	"slices"
	"testing"
	"time"
)

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

// PrimaryUnreachableSeconds: nothing while reachable, the episode's age at
// each unreachable check, one 0 when it ends, and a new episode starts at 0.
func TestUnreachableSecondsPerEpisode(t *testing.T) {
	var got []float64
	a := &Agent{deps: Deps{PublishCluster: func(metric string, v float64, _ time.Time) {
		if metric != MetricPrimaryUnreachableSeconds {
			t.Errorf("published %s", metric)
		}
		got = append(got, v)
	}}}
	t0 := time.Unix(1000, 0)
	d := &detector{}
	for i, reachable := range []bool{true, false, false, false, true, true, false, false} {
		a.publishReachable(d, reachable, t0.Add(time.Duration(i)*time.Second))
	}
	want := []float64{0, 1, 2, 0, 0, 1}
	if !slices.Equal(got, want) {
		t.Fatalf("published %v, want %v", got, want)
	}
}
