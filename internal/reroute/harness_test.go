package reroute_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
	"github.com/switchyard/switchyard/internal/localaws/route53sim"
	"github.com/switchyard/switchyard/internal/reroute"
)

// Ids of testdata/two-vpcs.yaml.
const (
	appVPC     = "vpc-0aaa0000000000001"
	hubVPC     = "vpc-0bbb0000000000002"
	otherVPC   = "vpc-0ccc0000000000003"
	overlayIP  = "10.1.0.10/32"
	localENI1  = "eni-0aaa0000000000011"
	localENI2  = "eni-0aaa0000000000022"
	staleENI   = "eni-0aaa0000000000033"
	localAlloc = "eipalloc-0aaa0000000000001"
	publicIP   = "203.0.113.10"
	privZone   = "Z0AAA00000000000PRIV"
	publZone   = "Z0AAA00000000000PUBL"
	node1IP    = "10.0.2.10"

	// Route tables of the app VPC with the overlay route.
	rtbA1 = "rtb-0aaa00000000000a1" // → node1's ENI
	rtbC1 = "rtb-0aaa00000000000c1" // → node1's ENI
	rtbE1 = "rtb-0aaa00000000000e1" // → node1, seeded by instance id
	rtbF1 = "rtb-0aaa00000000000f1" // → node2's ENI already
	rtbF2 = "rtb-0aaa00000000000f2" // → a stale ENI

	// Access keys: the code under test, and another actor changing AWS
	// under it.
	testKey  = "reroute-test"
	otherKey = "other-actor"
)

var (
	localNode1 = cluster.Node{Name: "node1", InstanceID: "i-0aaa0000000000011", NetworkInterfaceID: localENI1, PrivateIP: node1IP}
	localNode2 = cluster.Node{Name: "node2", InstanceID: "i-0aaa0000000000022", NetworkInterfaceID: localENI2, PrivateIP: "10.0.12.10"}
	localOpts  = []reroute.Option{reroute.WithPollInterval(20 * time.Millisecond), reroute.WithRetry(5*time.Millisecond, 5),
		reroute.WithVerifyTimeout(5 * time.Second)}
	// quickGiveUp is for tests that expect no convergence.
	quickGiveUp = []reroute.Option{reroute.WithPollInterval(10 * time.Millisecond), reroute.WithRetry(time.Millisecond, 5),
		reroute.WithVerifyTimeout(300 * time.Millisecond)}
	throttle = &localaws.APIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded.", HTTPStatus: http.StatusServiceUnavailable}
)

// tapFunc sees an EC2 Query call of the code under test on the wire before
// the emulator answers it, and must call serve exactly once to have it
// answered. Calls of other access keys (otherKey) pass untapped.
type tapFunc func(action string, form url.Values, serve func())

type local struct {
	topo    *localaws.Topology
	srv     *localaws.Server
	ec2     *ec2sim.Service
	r53     *route53sim.Service
	clients reroute.Clients // the code under test (testKey)
	other   *awsall.Clients // another actor (otherKey), with the SDK's default retries

	mu  sync.Mutex
	tap tapFunc
}

type setup struct {
	edit       func(*localaws.Topology)
	sdkRetries bool
}

// localOpt adjusts newLocal.
type localOpt func(*setup)

// withTopology edits the topology before the emulators are seeded from it.
func withTopology(edit func(*localaws.Topology)) localOpt { return func(s *setup) { s.edit = edit } }

// withoutSDKRetries makes the code under test's SDK clients try each call
// once, so call counts show reroute's own retries alone.
func withoutSDKRetries() localOpt { return func(s *setup) { s.sdkRetries = false } }

// newLocal serves testdata/two-vpcs.yaml from the EC2 and Route 53
// emulators over HTTP and returns real SDK clients for them: for the code
// under test (by default with the SDK's three attempts and a quick
// backoff) and for another actor.
func newLocal(t *testing.T, opts ...localOpt) *local {
	t.Helper()
	st := setup{sdkRetries: true}
	for _, o := range opts {
		o(&st)
	}
	topo, err := localaws.LoadTopology("testdata/two-vpcs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if st.edit != nil {
		st.edit(topo)
	}
	l := &local{topo: topo, srv: localaws.NewServer(), ec2: ec2sim.New(topo)}
	if l.r53, err = route53sim.New(topo); err != nil {
		t.Fatal(err)
	}
	l.r53.SetPropagationDelay(200 * time.Millisecond)
	l.srv.Register(l.ec2)
	l.srv.Register(l.r53)
	hs := httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(hs.Close)

	attempts := 3
	if !st.sdkRetries {
		attempts = 1
	}
	mine := append(awsall.LocalConfig(hs.URL, "us-east-1", testKey), config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 2 * time.Millisecond, nil })
		})
	}))
	clients, err := awsall.NewClients(context.Background(), mine...)
	if err != nil {
		t.Fatal(err)
	}
	l.clients = reroute.Clients{EC2: clients.EC2, Route53: clients.Route53}
	if l.other, err = awsall.NewClients(context.Background(), awsall.LocalConfig(hs.URL, "us-east-1", otherKey)...); err != nil {
		t.Fatal(err)
	}
	return l
}

// setTap installs tap for the calls that follow; nil removes it.
func (l *local) setTap(tap tapFunc) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tap = tap
}

func (l *local) serve(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	tap := l.tap
	l.mu.Unlock()
	if tap == nil || !strings.Contains(r.Header.Get("Authorization"), "Credential="+testKey+"/") {
		l.srv.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body)) // Route 53's XML bodies have no Action
	if form.Get("Action") == "" {
		l.srv.ServeHTTP(w, r)
		return
	}
	tap(form.Get("Action"), form, func() { l.srv.ServeHTTP(w, r) })
}

// wantRoutes checks every route of the topology: the overlay route of each
// table of the app VPC goes to overlayTarget, except those in keep, which
// must be as seeded; everything else is as seeded.
func (l *local) wantRoutes(t *testing.T, overlayTarget string, keep ...string) {
	t.Helper()
	for _, rt := range l.topo.RouteTables {
		for _, r := range rt.Routes {
			want := r.Target
			if strings.HasPrefix(want, "i-") {
				want, _, _ = l.ec2.InstanceNetworkInterface(want)
			}
			if rt.VPCID == appVPC && r.Destination == overlayIP && !slices.Contains(keep, rt.ID) {
				want = overlayTarget
			}
			if got, _ := l.ec2.RouteTarget(rt.ID, r.Destination); got != want {
				t.Errorf("%s: route %s → %q, want %q", rt.ID, r.Destination, got, want)
			}
		}
	}
}

// count returns how many op calls of the code under test the emulator
// answered with code ("" success, "*" any).
func (l *local) count(op, code string) int {
	n := 0
	for _, c := range l.srv.Calls() {
		if c.AccessKeyID == testKey && c.Operation == op && (code == "*" || c.ErrorCode == code) {
			n++
		}
	}
	return n
}

// record returns the A record name (with the trailing dot) of a zone.
func (l *local) record(t *testing.T, zone, name string) (localaws.Record, bool) {
	t.Helper()
	recs, ok := l.r53.Records(zone)
	if !ok {
		t.Fatalf("no hosted zone %s", zone)
	}
	for _, r := range recs {
		if r.Name == name && r.Type == "A" {
			return r, true
		}
	}
	return localaws.Record{}, false
}

func overlayConfig() cluster.OverlayIP {
	return cluster.OverlayIP{CIDR: overlayIP, VPCIDs: []string{appVPC, hubVPC}}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
