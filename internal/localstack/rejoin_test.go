package localstack_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/store"
)

// TestFormerPrimaryRejoinsAfterFailover: node1 crashes under continuous
// writes (synchronous replication), the failover fences it (its instance
// stops) and promotes node2. Then node1's instance is started again and
// its agent boots: it rewinds node1 against node2, starts it as node2's
// streaming standby, records the rejoin, and node2's agent makes it the
// synchronous standby again, eligible for the next failover. No
// acknowledged write is lost and the nodes are never both writable.
func TestFormerPrimaryRejoinsAfterFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, m, w := startWriting(t, localstack.Options{Rejoin: true})
	if err := s.Crash("node1"); err != nil {
		t.Fatal(err)
	}
	arn := startExecution(t, s, "crash-failover", readEvent(t, s, "manual-failover.json"))
	requireSucceeded(t, s, arn)

	// The operator starts node1's instance; systemd starts its agent.
	node1 := s.Nodes["node1"]
	waitFor(t, time.Minute, "node1's instance stopped by the fence", func() bool { return instanceState(t, s, node1.Instance.ID) == "stopped" })
	if _, err := s.Client("operator").EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{node1.Instance.ID}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "node1's instance running", func() bool { return instanceState(t, s, node1.Instance.ID) == "running" })
	if err := s.Boot("node1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "node1's agent to rejoin it", func() bool { return node1.Agent().Snapshot().Rejoins == 1 })
	before := len(w.Stats().Acked)
	ackedSince(t, w, before, 20, 30*time.Second, "writes after the rejoin")
	waitFor(t, time.Minute, "node2's agent to record node1 the eligible synchronous standby", func() bool {
		rec := clusterRecord(t, s)
		return rec.Primary == "node2" && rec.Standby != nil && rec.Standby.Node == "node1" && rec.Standby.Eligible
	})
	dsn1 := node1.PG.DSN(localstack.DatabaseName, pgharness.Superuser)
	if in, err := inRecovery(dsn1); err != nil || !in {
		t.Errorf("node1 after the rejoin: in recovery %v (%v)", in, err)
	}
	acked, lost := writerOutcome(t, s, w, "node2")
	if *lost != 0 {
		t.Errorf("%d acknowledged writes lost", *lost)
	}
	// Every acknowledged write is on the rejoined standby too once it has
	// caught up: it is node2's synchronous standby.
	missing1 := -1
	waitFor(t, 30*time.Second, "node1 to hold every acknowledged write", func() bool {
		miss, err := s.MissingOn(ctx, "node1", w.Stats().Acked)
		missing1 = len(miss)
		return err == nil && len(miss) == 0
	})
	rec := clusterRecord(t, s)
	last := rec.History[len(rec.History)-1]
	if last.Action != store.ActionRejoin || last.From != "node1" || last.To != "node2" || last.Outcome != store.OutcomeSucceeded {
		t.Errorf("last history entry %+v, want node1's rejoin", last)
	}
	// Before rewinding, node1's agent snapshotted its instance's volumes
	// (on AWS: recoverable even if the kept WAL is lost with the disk).
	if last.Steps[0] != "snapshot" || !strings.Contains(last.Reason, "EBS snapshot(s) snap-") {
		t.Errorf("rejoin entry %+v, want the EBS snapshots first", last)
	}
	snaps, err := s.Client("test").EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{})
	if err != nil || len(snaps.Snapshots) != 2 {
		t.Fatalf("snapshots %+v (%v), want node1's two volumes", snaps, err)
	}
	for _, sn := range snaps.Snapshots {
		if tags := tagMap(sn.Tags); tags[agent.TagCluster] != s.Config.Name || tags[agent.TagNode] != "node1" {
			t.Errorf("snapshot %s tags %v", aws.ToString(sn.SnapshotId), tags)
		}
	}
	assertCallsAllowed(t, s)
	// Redundancy was lost with the failover and is back with the rejoin.
	waitNotice(t, s, 30*time.Second, "lost redundancy: standby node1")
	if n := waitNotice(t, s, 30*time.Second, "node1 rejoined as a standby of node2"); !strings.Contains(n.Message, "pg_rewind") {
		t.Errorf("rejoin notice does not say how:\n%s", n.Message)
	}
	waitNotice(t, s, 30*time.Second, "redundancy restored: standby node1")
	// Status shows the pair healthy again: node2 primary on timeline 2,
	// node1 its promotable synchronous standby, clients routed to node2.
	var status string
	waitFor(t, 10*time.Second, "status to show node1 streaming synchronously", func() bool {
		status = runStatus(t, s)
		return strings.Contains(status, "sync  yes")
	})
	t.Logf("switchyard status:\n%s", status)
	for _, want := range []string{"health   ok", "node2   primary  writable, lease", "node1   standby  streaming", "sync  yes", "overlay-ip"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	if strings.Contains(status, "DRIFT") {
		t.Errorf("status reports drift after the failover:\n%s", status)
	}
	reportFault(t, m, faultRow{Case: "former primary's instance started after a crash failover (auto rejoin)",
		Expected: "pg_rewind, streaming standby, eligible synchronous standby; nothing lost",
		Observed: fmt.Sprintf("rejoined (%s); node1 missing %d acknowledged writes after catching up", last.Reason, missing1),
		Acked:    acked, Lost: lost})
}

func tagMap(tags []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func instanceState(t *testing.T, s *localstack.Stack, id string) string {
	t.Helper()
	out, err := s.Client("operator").EC2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) == 0 || len(out.Reservations[0].Instances) == 0 {
		return ""
	}
	return string(out.Reservations[0].Instances[0].State.Name)
}
