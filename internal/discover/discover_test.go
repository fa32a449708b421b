package discover_test

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/discover"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/refaccount"
	"github.com/switchyard/switchyard/internal/reroute"
)

const repo = "../.."

// account serves the reference topology with each instance tagged with
// its node's name under switchyard:node, edited by edit, and returns an
// EC2 client for it and the sample configuration (events/), which
// describes that account by id.
func account(t *testing.T, edit func(*localaws.Topology)) (awsapi.EC2Reader, *cluster.Config) {
	t.Helper()
	c := refaccount.Serve(t, repo, "discover-test", func(topo *localaws.Topology) {
		for i := range topo.Instances {
			in := &topo.Instances[i]
			if in.Tags == nil {
				in.Tags = map[string]string{}
			}
			in.Tags[discover.DefaultNodeTagKey] = in.Name
		}
		if edit != nil {
			edit(topo)
		}
	}).Clients
	cfg, err := cluster.Load(filepath.Join(repo, "events", "cluster-config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return c.EC2, cfg
}

func query(overlay string) discover.Query {
	return discover.Query{
		Tags:       map[string]string{discover.DefaultClusterTagKey: "pg"},
		NodeTagKey: discover.DefaultNodeTagKey, OverlayCIDR: overlay,
	}
}

// Found by tag, the nodes are exactly what the sample configuration names
// by id, and the route tables are the ones Reroute would change.
func TestFindByTagMatchesTheConfiguration(t *testing.T) {
	ctx := context.Background()
	api, cfg := account(t, nil)
	res, err := discover.Find(ctx, api, query(cfg.Routing.OverlayIP.CIDR))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.ConfigNodes(5432); !reflect.DeepEqual(got, cfg.Nodes) {
		t.Errorf("found nodes\n%+v\nwant the configuration's\n%+v", got, cfg.Nodes)
	}
	for _, n := range res.Nodes {
		if n.ENIFoundBy != "primary interface" || n.State != "running" || n.VPCID != cfg.Routing.OverlayIP.VPCIDs[0] {
			t.Errorf("%s: found by %q, state %q, VPC %q", n.Name, n.ENIFoundBy, n.State, n.VPCID)
		}
	}
	want, err := reroute.FindOverlayRoutes(ctx, api, *cfg.Routing.OverlayIP)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || !reflect.DeepEqual(res.RouteTables, want) {
		t.Errorf("route tables %+v, want %+v (and at least one)", res.RouteTables, want)
	}
	params := res.ParameterOverrides()
	for _, p := range []string{"Node1Name=node1", "Node1InstanceId=" + cfg.Nodes[0].InstanceID, "Node2EniId=" + cfg.Nodes[1].NetworkInterfaceID,
		"Node2PrivateIp=" + cfg.Nodes[1].PrivateIP, "Node1AvailabilityZone=" + cfg.Nodes[0].AvailabilityZone, "OverlayVpcIds=" + cfg.Routing.OverlayIP.VPCIDs[0]} {
		if !strings.Contains(params, p) {
			t.Errorf("parameter overrides %q lack %q", params, p)
		}
	}
}

// --primary puts that node first: it becomes the template's Node1.
func TestFindPrimaryFirst(t *testing.T) {
	api, cfg := account(t, nil)
	q := query("")
	q.Primary = "node2"
	res, err := discover.Find(context.Background(), api, q)
	if err != nil {
		t.Fatal(err)
	}
	if res.Nodes[0].Name != "node2" || res.Nodes[0].InstanceID != cfg.Nodes[1].InstanceID || res.RouteTables != nil {
		t.Errorf("nodes %+v, route tables %+v; want node2 first and no route lookup", res.Nodes, res.RouteTables)
	}
	if p := res.Parameters()[0]; p.Key != "Node1Name" || p.Value != "node2" {
		t.Errorf("first parameter %+v, want Node1Name=node2", p)
	}
	q.Primary = "node3"
	if _, err := discover.Find(context.Background(), api, q); err == nil || !strings.Contains(err.Error(), `primary "node3" is not a node found`) {
		t.Errorf("unknown primary: %v", err)
	}
}

// Anything but exactly two live, distinctly named, tagged instances is
// refused with what was seen; terminated instances do not count.
func TestFindRefusesAmbiguity(t *testing.T) {
	third := func(state string) func(*localaws.Topology) {
		return func(topo *localaws.Topology) {
			in := topo.Instances[0]
			in.ID, in.Name, in.NetworkInterfaceID, in.PrivateIP, in.State = "i-0333333333333333a", "node3", "", "10.0.2.30", state
			in.Tags = map[string]string{discover.DefaultClusterTagKey: "pg", discover.DefaultNodeTagKey: "node3"}
			topo.Instances = append(topo.Instances, in)
		}
	}
	cases := []struct {
		name string
		edit func(*localaws.Topology)
		q    func(discover.Query) discover.Query
		want string // "" when Find must succeed
	}{
		{"third instance running", third("running"), nil, "3 live instances carry switchyard:cluster=pg, want exactly 2"},
		{"third instance stopped", third("stopped"), nil, "i-0333333333333333a"},
		{"third instance terminated", third("terminated"), nil, ""},
		{"no match", nil, func(q discover.Query) discover.Query {
			q.Tags = map[string]string{discover.DefaultClusterTagKey: "prod"}
			return q
		}, "0 live instances carry switchyard:cluster=prod, want exactly 2 (none)"},
		{"node tag missing", func(topo *localaws.Topology) { delete(topo.Instances[1].Tags, discover.DefaultNodeTagKey) }, nil,
			"has no switchyard:node tag naming its node (aws ec2 create-tags --resources i-01fb331160654d593"},
		{"same node name", func(topo *localaws.Topology) { topo.Instances[1].Tags[discover.DefaultNodeTagKey] = "node1" }, nil,
			"both carry switchyard:node=node1"},
		{"no tags", nil, func(q discover.Query) discover.Query { q.Tags = nil; return q }, "no tags to select the instances by"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api, _ := account(t, c.edit)
			q := query("")
			if c.q != nil {
				q = c.q(q)
			}
			res, err := discover.Find(context.Background(), api, q)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Find: %v", err)
			case c.want == "" && len(res.Nodes) != 2:
				t.Fatalf("found %+v, want node1 and node2", res.Nodes)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Find: %v, want an error with %q", err, c.want)
			}
		})
	}
}

// Describe shows each configured node's instance as EC2 has it, and what
// differs from the configuration.
func TestDescribeShowsDifferences(t *testing.T) {
	api, cfg := account(t, func(topo *localaws.Topology) { topo.Instances[1].State = "terminated" })
	cfg.Nodes[0].PrivateIP = "10.0.2.99"
	got := discover.Describe(context.Background(), api, cfg)
	if len(got) != 2 {
		t.Fatalf("%d instances, want 2", len(got))
	}
	if g := got[0]; g.State != "running" || !g.Attached || g.PrivateIP != "10.0.2.10" || g.Problem != "private IP is 10.0.2.10, the configuration says 10.0.2.99" {
		t.Errorf("node1: %+v", g)
	}
	if g := got[1]; g.State != "terminated" || !strings.HasPrefix(g.Problem, "instance terminated") {
		t.Errorf("node2: %+v", g)
	}
	cfg.Nodes[0].PrivateIP, cfg.Nodes[1].InstanceID = "10.0.2.10", "i-0ffffffffffffffff"
	got = discover.Describe(context.Background(), api, cfg)
	if got[0].Problem != "" || !strings.Contains(got[1].Error, "InvalidInstanceID.NotFound") {
		t.Errorf("matching node1 %+v; unknown node2 %+v", got[0], got[1])
	}
}

// --eni-tag picks, among the interfaces attached to each instance, the one
// carrying the tag (its private IP with it); none or several is refused.
func TestFindInterfaceByTag(t *testing.T) {
	role := map[string]string{"switchyard:role": "db"}
	second := func(topo *localaws.Topology) {
		primary := topo.NetworkInterfaces[0]
		topo.NetworkInterfaces = append(topo.NetworkInterfaces, localaws.NetworkInterface{
			ID: "eni-0aaaaaaaaaaaaaaa1", SubnetID: primary.SubnetID, PrivateIP: "10.0.2.11", InstanceID: primary.InstanceID,
			Groups: primary.Groups, Tags: role})
		topo.NetworkInterfaces[1].Tags = role
	}
	api, cfg := account(t, second)
	q := query("")
	q.ENITags = role
	res, err := discover.Find(context.Background(), api, q)
	if err != nil {
		t.Fatal(err)
	}
	n1, n2 := res.Nodes[0], res.Nodes[1]
	if n1.NetworkInterfaceID != "eni-0aaaaaaaaaaaaaaa1" || n1.PrivateIP != "10.0.2.11" || n1.ENIFoundBy != "tag switchyard:role=db" {
		t.Errorf("node1: %+v, want the tagged second interface", n1)
	}
	if n2.NetworkInterfaceID != cfg.Nodes[1].NetworkInterfaceID || n2.PrivateIP != cfg.Nodes[1].PrivateIP {
		t.Errorf("node2: %+v, want its tagged primary interface", n2)
	}
	q.ENITags = map[string]string{"switchyard:role": "none"}
	if _, err := discover.Find(context.Background(), api, q); err == nil || !strings.Contains(err.Error(), "0 interfaces attached to") {
		t.Errorf("no interface with the tag: %v", err)
	}
	api, _ = account(t, func(topo *localaws.Topology) {
		second(topo)
		topo.NetworkInterfaces[0].Tags = role
	})
	q.ENITags = role
	if _, err := discover.Find(context.Background(), api, q); err == nil || !strings.Contains(err.Error(), "2 interfaces attached to i-0c460e6afa6d2ca4c (node1) carry switchyard:role=db, want exactly 1") {
		t.Errorf("two interfaces with the tag: %v", err)
	}
}
