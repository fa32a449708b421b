package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/reroute"
)

// A target elsewhere than the recorded primary, or unreadable, degrades a
// healthy verdict and is flagged in the routing table.
func TestRoutingDriftDegradesAndIsFlagged(t *testing.T) {
	where := []reroute.Pointing{
		{Target: reroute.TargetOverlayIP, What: "rtb-1 10.1.0.10/32", Node: "node1", Raw: "eni-1"},
		{Target: reroute.TargetOverlayIP, What: "rtb-2 10.1.0.10/32", Node: "node2", Raw: "eni-2"},
		{Target: reroute.TargetElasticIP, What: "eipalloc-1", Raw: "eni-9"},
		{Target: reroute.TargetDNS, What: "db.example.", Error: "Throttling: Rate exceeded"},
	}
	h := withRouting(health{State: healthOK}, where, "node1")
	if h.State != healthDegraded || len(h.Why) != 3 {
		t.Fatalf("verdict %+v, want degraded with three reasons", h)
	}
	if down := withRouting(health{State: healthDown}, where, "node1"); down.State != healthDown {
		t.Errorf("drift changed DOWN to %s", down.State)
	}
	if ok := withRouting(health{State: healthOK}, where[:1], "node1"); ok.State != healthOK || len(ok.Why) != 0 {
		t.Errorf("no drift: %+v", ok)
	}
	var b bytes.Buffer
	if err := printRouting(&b, where, "node1"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rtb-2 10.1.0.10/32  node2", "DRIFT: not the recorded primary node1", "eni-9", "DRIFT: not a cluster node", "UNREADABLE: Throttling"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("routing table lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(strings.SplitN(b.String(), "\n", 3)[1], "DRIFT") {
		t.Errorf("the target on the primary is flagged:\n%s", b.String())
	}
}
