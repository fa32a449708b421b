package agent

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
)

// One loss of one primary keeps one name while a failover takes the lock
// (epoch + 1) and revokes the lease; the primary renewing again starts a
// new incident; names stay valid execution names.
func TestIncidentNameIdentifiesOneLoss(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	rec := store.Record{Epoch: 1, Primary: "node1", PrimaryLease: &store.PrimaryLease{Node: "node1", Term: 1, Renewed: t0, Expires: t0.Add(8 * time.Second)}}
	first := incidentName("demo", rec)
	locked := rec
	locked.Epoch = 2
	revoked := *rec.PrimaryLease
	revoked.RevokedBy = "exec-1"
	locked.PrimaryLease = &revoked
	if got := incidentName("demo", locked); got != first {
		t.Errorf("the same loss after the failover took the lock and revoked the lease: %s, want %s", got, first)
	}
	renewed := rec
	l := *rec.PrimaryLease
	l.Renewed = t0.Add(2 * time.Second)
	renewed.PrimaryLease = &l
	if got := incidentName("demo", renewed); got == first {
		t.Errorf("a loss after a new renewal reuses the name %s", got)
	}
	long := incidentName(strings.Repeat("c", 40), store.Record{Primary: strings.Repeat("n", 60)})
	if len(long) > 80 || strings.ContainsFunc(long, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
	}) {
		t.Errorf("execution name %q: more than 80 characters or outside [a-z0-9-]", long)
	}
}

// A primary that keeps renewing while this standby cannot reach it is a
// new incident at every renewal: the detector reports it again only after
// a backoff that doubles up to its cap, at once for another primary, and
// from scratch once the stream works again.
func TestDetectorRetriggerBackoff(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	d := &detector{}
	if !d.mayTrigger("node1", t0) {
		t.Fatal("the first trigger is held back")
	}
	d.noteTrigger("node1", t0)
	for _, step := range []struct {
		after time.Duration
		want  bool
	}{{2 * time.Second, false}, {retriggerBackoff - time.Millisecond, false}, {retriggerBackoff, true}} {
		if got := d.mayTrigger("node1", t0.Add(step.after)); got != step.want {
			t.Errorf("%s after the first trigger: may trigger %t, want %t", step.after, got, step.want)
		}
	}
	if !d.mayTrigger("node2", t0.Add(time.Second)) {
		t.Error("a trigger about another primary is held back")
	}
	at, waits := t0, []time.Duration{}
	for range 6 {
		at = at.Add(d.triggerBackoff)
		d.noteTrigger("node1", at)
		waits = append(waits, d.triggerBackoff)
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, retriggerBackoffMax, retriggerBackoffMax, retriggerBackoffMax}
	if !slices.Equal(waits, want) {
		t.Errorf("backoffs %v, want %v", waits, want)
	}
	d.resetBackoff()
	if !d.mayTrigger("node1", at.Add(time.Second)) {
		t.Error("after the stream recovered, a new loss is held back")
	}
}
