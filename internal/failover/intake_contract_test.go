package failover

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
)

// intakeNow is the clock of the Intake under test: manual requests carry no
// time of their own, so they are stamped with it.
var intakeNow = time.Date(2026, 3, 14, 9, 25, 30, 0, time.UTC)

func newTestIntake(t *testing.T) *Intake {
	return &Intake{Config: sampleClusterConfig(t), Now: func() time.Time { return intakeNow }}
}

// str walks a decoded JSON object along keys and returns the string there.
func str(t *testing.T, m map[string]any, keys ...string) string {
	t.Helper()
	var v any = m
	for _, k := range keys {
		obj, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object on the way", strings.Join(keys, "."))
		}
		v = obj[k]
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s is %T, want a string", strings.Join(keys, "."), v)
	}
	return s
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("sample time %q: %v", s, err)
	}
	return v
}

func TestIntakeAcceptsEverySampleTrigger(t *testing.T) {
	alarm := eventObject(t, "alarm-state-change.json")
	manual := eventObject(t, "manual-failover.json")
	forced := eventObject(t, "manual-failover-forced.json")
	fast := eventObject(t, "fast-path.json")

	fastNoObservedAt := eventObject(t, "fast-path.json")
	delete(fastNoObservedAt["detail"].(map[string]any), "observedAt")
	manualNoReason := eventObject(t, "manual-failover.json")
	delete(manualNoReason, "reason")

	cases := []struct {
		name  string
		event []byte
		want  Request
	}{
		{"alarm-state-change.json", readEvent(t, "alarm-state-change.json"), Request{
			Action: ActionFailover, Cluster: demoCluster, Trigger: TriggerAlarm, Observer: demoAlarm,
			Reason:      "alarm: " + str(t, alarm, "detail", "state", "reason"),
			RequestedAt: ts(t, str(t, alarm, "time")),
		}},
		{"manual-failover.json", readEvent(t, "manual-failover.json"), Request{
			Action: ActionFailover, Cluster: demoCluster, Trigger: TriggerManual, Observer: "operator",
			Reason: str(t, manual, "reason"), RequestedAt: intakeNow,
		}},
		{"manual-failover-forced.json", readEvent(t, "manual-failover-forced.json"), Request{
			Action: ActionFailover, Cluster: demoCluster, Target: "node2", Force: true, Trigger: TriggerManual, Observer: "operator",
			Reason: str(t, forced, "reason"), RequestedAt: intakeNow,
		}},
		{"fast-path.json", readEvent(t, "fast-path.json"), Request{
			Action: ActionFailover, Cluster: demoCluster, Trigger: TriggerFastPath, Observer: "node2",
			Reason: "fast path: " + str(t, fast, "detail", "reason"),
			// The detector's own observation time wins over the envelope's.
			RequestedAt: ts(t, str(t, fast, "detail", "observedAt")),
		}},
		{"fast path without observedAt: the event time", mustJSON(t, fastNoObservedAt), Request{
			Action: ActionFailover, Cluster: demoCluster, Trigger: TriggerFastPath, Observer: "node2",
			Reason:      "fast path: " + str(t, fast, "detail", "reason"),
			RequestedAt: ts(t, str(t, fast, "time")),
		}},
		{"manual request without reason: a default one", mustJSON(t, manualNoReason), Request{
			Action: ActionFailover, Cluster: demoCluster, Trigger: TriggerManual, Observer: "operator",
			Reason: "manual failover requested", RequestedAt: intakeNow,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := invoke(newTestIntake(t).Handle, intakePayload(t, tc.event))
			if err != nil {
				t.Fatalf("Intake rejected a valid input: %T: %v", err, err)
			}
			// ResultPath "$": the output replaces the whole state, so it must
			// hold the execution and the request and nothing else.
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(out, &fields); err != nil {
				t.Fatalf("output %s is not a JSON object: %v", out, err)
			}
			var keys []string
			for k := range fields {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if strings.Join(keys, ",") != "execution,request" {
				t.Errorf("output fields %v, want [execution request]; output %s", keys, out)
			}
			var got State
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("output %s does not decode into State: %v", out, err)
			}
			if got.Execution != testExecARN {
				t.Errorf("execution %q, want %q", got.Execution, testExecARN)
			}
			r, w := got.Request, tc.want
			if !r.RequestedAt.Equal(w.RequestedAt) {
				t.Errorf("requestedAt %s, want %s", r.RequestedAt.Format(time.RFC3339Nano), w.RequestedAt.Format(time.RFC3339Nano))
			}
			r.RequestedAt, w.RequestedAt = time.Time{}, time.Time{}
			if r != w {
				t.Errorf("request\n got %+v\nwant %+v", r, w)
			}
		})
	}
}

func TestIntakeRejectsMalformedInput(t *testing.T) {
	withField := func(name string, edit func(m map[string]any)) []byte {
		m := eventObject(t, name)
		edit(m)
		return mustJSON(t, m)
	}
	detail := func(m map[string]any) map[string]any { return m["detail"].(map[string]any) }

	cases := []struct {
		name     string
		event    []byte // nil: the payload has no "event" at all
		mentions []string
	}{
		{"no event", nil, []string{"empty"}},
		{"null", []byte(`null`), []string{"empty"}},
		{"empty object", []byte(`{}`), []string{"neither an event", `"source"`, `"action"`}},
		{"console placeholder", []byte(`{"Comment": "Insert your JSON here"}`), []string{"neither an event"}},
		{"array", []byte(`[{"action":"failover","cluster":"demo"}]`), []string{"not a JSON object"}},
		{"string", []byte(`"failover"`), []string{"not a JSON object"}},
		{"number", []byte(`42`), []string{"not a JSON object"}},
		{"both source and action", withField("alarm-state-change.json", func(m map[string]any) { m["action"] = "failover" }),
			[]string{`both "source"`, `"action"`}},
		{"unknown source", withField("alarm-state-change.json", func(m map[string]any) {
			m["source"], m["detail-type"] = "aws.ec2", "EC2 Instance State-change Notification"
		}), []string{"unsupported event", `"aws.ec2"`, `"EC2 Instance State-change Notification"`}},
		{"wrong detail-type", withField("alarm-state-change.json", func(m map[string]any) {
			m["detail-type"] = "CloudWatch Alarm Configuration Change"
		}), []string{"unsupported event", `"CloudWatch Alarm Configuration Change"`}},
		{"node probe source with the alarm detail-type", withField("fast-path.json", func(m map[string]any) {
			m["detail-type"] = DetailAlarmChange
		}), []string{"unsupported event", `"switchyard.nodeprobe"`}},
		{"event without detail", withField("alarm-state-change.json", func(m map[string]any) { delete(m, "detail") }),
			[]string{"no detail"}},
		{"alarm of another cluster", withField("alarm-state-change.json", func(m map[string]any) {
			detail(m)["alarmName"] = "switchyard-prod-primary-heartbeat"
		}), []string{`"switchyard-prod-primary-heartbeat"`, `"` + demoAlarm + `"`, `cluster "demo"`}},
		{"alarm state OK (alarm-ok.json)", readEvent(t, "alarm-ok.json"), []string{"OK", "not ALARM", demoAlarm}},
		{"alarm state INSUFFICIENT_DATA", withField("alarm-state-change.json", func(m map[string]any) {
			detail(m)["state"].(map[string]any)["value"] = "INSUFFICIENT_DATA"
		}), []string{"INSUFFICIENT_DATA", "not ALARM"}},
		{"unknown field in a manual request", withField("manual-failover.json", func(m map[string]any) { m["node"] = "node2" }),
			[]string{`unknown field "node"`, "fields: action, cluster, target, force, reason"}},
		{"force given as a string", withField("manual-failover.json", func(m map[string]any) { m["force"] = "yes" }),
			[]string{"manual request is malformed", "force"}},
		{"unknown action", withField("manual-failover.json", func(m map[string]any) { m["action"] = "failvoer" }),
			[]string{`"failvoer"`, `"failover"`}},
		{"unknown cluster", withField("manual-failover.json", func(m map[string]any) { m["cluster"] = "prod" }),
			[]string{`"prod"`, `"demo"`}},
		{"unknown target node", withField("manual-failover.json", func(m map[string]any) { m["target"] = "node3" }),
			[]string{`"node3"`, "node1, node2"}},
		{"force without reason", withField("manual-failover-forced.json", func(m map[string]any) { delete(m, "reason") }),
			[]string{"forced", "reason"}},
		{"force with a blank reason", withField("manual-failover-forced.json", func(m map[string]any) { m["reason"] = "  \t " }),
			[]string{"forced", "reason"}},
		{"forced switchover", withField("switchover.json", func(m map[string]any) { m["force"] = true }),
			[]string{"switchover cannot be forced", `"failover"`}},
		{"unknown action", withField("switchover.json", func(m map[string]any) { m["action"] = "takeover" }),
			[]string{`"takeover"`, `"failover"`, `"switchover"`}},
		{"fast path from an unknown observer", withField("fast-path.json", func(m map[string]any) { detail(m)["observer"] = "node9" }),
			[]string{`"node9"`, "not a node", `"demo"`}},
		{"fast path for another cluster", withField("fast-path.json", func(m map[string]any) { detail(m)["cluster"] = "prod" }),
			[]string{`"prod"`, `"demo"`}},
		{"fast path with an unknown detail field", withField("fast-path.json", func(m map[string]any) { detail(m)["severity"] = "high" }),
			[]string{DetailPrimaryLost, `unknown field "severity"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := invoke(newTestIntake(t).Handle, intakePayload(t, tc.event))
			wantHandlerError[*InputError](t, err, "InputError", tc.mentions...)
			if out != nil {
				t.Errorf("a rejected input still produced output %s", out)
			}
		})
	}
}

func TestSampleClusterConfigIsValid(t *testing.T) {
	cfg := sampleClusterConfig(t)
	if cfg.Name != demoCluster || cfg.Detection.AlarmName != demoAlarm {
		t.Errorf("sample config: cluster %q alarm %q, want %q and %q (the names the sample events use)",
			cfg.Name, cfg.Detection.AlarmName, demoCluster, demoAlarm)
	}
	if _, ok := cfg.Node("node2"); !ok {
		t.Errorf("sample config has no node2, the observer and target of the samples")
	}

	// Every id names a resource of the reference network, where it says.
	topo, err := localaws.LoadTopology(referenceTopology)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range cfg.Nodes {
		var inst *localaws.Instance
		for i := range topo.Instances {
			if topo.Instances[i].Name == n.Name {
				inst = &topo.Instances[i]
			}
		}
		if inst == nil {
			t.Errorf("node %s: no instance of that name in the reference network", n.Name)
			continue
		}
		if inst.ID != n.InstanceID || inst.NetworkInterfaceID != n.NetworkInterfaceID || inst.PrivateIP != n.PrivateIP {
			t.Errorf("node %s: instance %s eni %s ip %s, reference network has %s %s %s",
				n.Name, n.InstanceID, n.NetworkInterfaceID, n.PrivateIP, inst.ID, inst.NetworkInterfaceID, inst.PrivateIP)
		}
		zone := ""
		for _, sn := range topo.Subnets {
			if sn.ID == inst.SubnetID {
				zone = sn.AvailabilityZone
			}
		}
		if zone != n.AvailabilityZone {
			t.Errorf("node %s: zone %s, its subnet %s is in %q", n.Name, n.AvailabilityZone, inst.SubnetID, zone)
		}
	}
	r := cfg.Routing
	if r.OverlayIP == nil || len(r.OverlayIP.VPCIDs) != 1 || r.OverlayIP.VPCIDs[0] != topo.VPCs[0].ID {
		t.Errorf("overlay %+v: want the reference VPC %s", r.OverlayIP, topo.VPCs[0].ID)
	} else {
		routed := false
		for _, rt := range topo.RouteTables {
			for _, rr := range rt.Routes {
				routed = routed || rr.Destination == r.OverlayIP.CIDR
			}
		}
		if !routed {
			t.Errorf("overlay %s is not routed in any route table of the reference network", r.OverlayIP.CIDR)
		}
	}
	if r.ElasticIP == nil || len(topo.Addresses) == 0 || r.ElasticIP.AllocationID != topo.Addresses[0].AllocationID {
		t.Errorf("elastic IP %+v: want the reference allocation", r.ElasticIP)
	}
	foundRecord := false
	for _, d := range r.DNS {
		for _, z := range topo.HostedZones {
			for _, rec := range z.Records {
				foundRecord = foundRecord || (z.ID == d.HostedZoneID && strings.TrimSuffix(rec.Name, ".") == d.Name && rec.Type == "A")
			}
		}
	}
	if !foundRecord {
		t.Errorf("dns %+v: no such A record in the reference hosted zones", r.DNS)
	}
	foundGroup := false
	for _, g := range topo.SecurityGroups {
		foundGroup = foundGroup || g.ID == cfg.Fence.IsolationSecurityGroupID
	}
	if !foundGroup {
		t.Errorf("isolation group %q is not a security group of the reference network", cfg.Fence.IsolationSecurityGroupID)
	}
	foundSecret := false
	for _, s := range topo.Secrets {
		foundSecret = foundSecret || s.Name == cfg.Database.SecretID
	}
	if !foundSecret {
		t.Errorf("secret %q is not in the reference network", cfg.Database.SecretID)
	}
}
