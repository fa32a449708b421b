package ec2sim

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
)

// Ids of the reference topology (testdata/topology/reference.yaml).
const (
	ecNode1 = "i-0c460e6afa6d2ca4c"
	ecNode2 = "i-01fb331160654d593"
	ecENI1  = "eni-0d132fa596468253e"
	ecSGDB  = "sg-09c713cc03fd876eb"
	ecSGIso = "sg-0cc090b5074d62940"
)

// clock is a hand-moved clock for the consistency model's time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ecEnv is the reference topology behind HTTP with a hand-moved clock,
// throttling off and a stop that never completes on its own.
type ecEnv struct {
	svc *Service
	clk *clock
	api *ec2.Client
}

func newECEnv(t *testing.T, c Consistency) *ecEnv {
	t.Helper()
	topo, err := localaws.LoadTopology(filepath.Join("..", "..", "..", "testdata", "topology", "reference.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	svc := New(topo)
	svc.now = clk.now
	svc.SetStopDelay(time.Hour)
	if err := svc.SetConsistency(c); err != nil {
		t.Fatal(err)
	}
	srv := localaws.NewServer()
	srv.SetThrottling(false)
	srv.Register(svc)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg, err := config.LoadDefaultConfig(context.Background(), awsall.LocalConfig(hs.URL, "us-east-1", "consistency-test")...)
	if err != nil {
		t.Fatal(err)
	}
	return &ecEnv{svc: svc, clk: clk, api: ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.RetryMaxAttempts = 1 })}
}

func bg(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// readState is one DescribeInstances by id: the state, or "NotFound", or
// "empty" for an answer without the instance.
func (e *ecEnv) readState(t *testing.T, id string) string {
	t.Helper()
	out, err := e.api.DescribeInstances(bg(t), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	switch code := awsapi.ErrorCode(err); {
	case code == "InvalidInstanceID.NotFound":
		return "NotFound"
	case err != nil:
		t.Fatalf("DescribeInstances: %v", err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if aws.ToString(in.InstanceId) == id {
				return string(in.State.Name)
			}
		}
	}
	return "empty"
}

// tally reads n times and counts the answers.
func (e *ecEnv) tally(t *testing.T, id string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		got[e.readState(t, id)]++
	}
	return got
}

func (e *ecEnv) stop(t *testing.T, id string) {
	t.Helper()
	if _, err := e.api.StopInstances(bg(t), &ec2.StopInstancesInput{InstanceIds: []string{id},
		Force: aws.Bool(true), SkipOsShutdown: aws.Bool(true)}); err != nil {
		t.Fatalf("StopInstances: %v", err)
	}
}

func TestConsistencyOffByDefault(t *testing.T) {
	e := newECEnv(t, Consistency{})
	e.stop(t, ecNode1)
	if got := e.tally(t, ecNode1, 50); got[StateStopping] != 50 {
		t.Fatalf("strongly consistent reads after a stop: %v, want 50 × stopping", got)
	}
}

func TestStaleReadsFadeOverTheWindow(t *testing.T) {
	e := newECEnv(t, Consistency{StaleFor: 10 * time.Second, Seed: 7})
	e.stop(t, ecNode1)
	if got := e.svc.InstanceState(ecNode1); got != StateStopping {
		t.Fatalf("the truth is %s, want stopping", got)
	}
	// Right after the change every replica lags behind it.
	if got := e.tally(t, ecNode1, 50); got[StateRunning] != 50 {
		t.Fatalf("reads right after the stop: %v, want 50 × running (the pre-stop view)", got)
	}
	// Half way through the window about half the reads are stale.
	e.clk.advance(5 * time.Second)
	got := e.tally(t, ecNode1, 400)
	if got[StateRunning] < 120 || got[StateStopping] < 120 || got[StateRunning]+got[StateStopping] != 400 {
		t.Fatalf("reads half way through the window: %v, want a mix of running and stopping", got)
	}
	// A second change: the oldest view can still show through.
	if err := e.svc.SetInstanceState(ecNode1, StateStopped); err != nil {
		t.Fatal(err)
	}
	e.clk.advance(time.Second)
	got = e.tally(t, ecNode1, 400)
	for _, s := range []string{StateRunning, StateStopping, StateStopped} {
		if got[s] == 0 {
			t.Fatalf("reads after two changes: %v, want running, stopping and stopped all seen", got)
		}
	}
	// After the window, only the truth.
	e.clk.advance(10 * time.Second)
	if got := e.tally(t, ecNode1, 50); got[StateStopped] != 50 {
		t.Fatalf("reads after the window: %v, want 50 × stopped", got)
	}
	// An instance nobody touched is never stale.
	if got := e.tally(t, ecNode2, 20); got[StateRunning] != 20 {
		t.Fatalf("untouched instance: %v", got)
	}
}

func TestSpuriousNotFound(t *testing.T) {
	e := newECEnv(t, Consistency{StaleFor: 10 * time.Second, SpuriousNotFound: 0.3, Seed: 11})
	e.stop(t, ecNode1)
	got := e.tally(t, ecNode1, 400)
	if got["NotFound"] < 80 || got["NotFound"] > 160 {
		t.Fatalf("reads by id inside the window: %v, want about 30%% NotFound", got)
	}
	if e.svc.InstanceState(ecNode1) != StateStopping {
		t.Fatal("a spurious NotFound changed the truth")
	}
	// By filter the instance is left out: an empty reservation list.
	empty := 0
	for range 200 {
		out, err := e.api.DescribeInstances(bg(t), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
			{Name: aws.String("instance-id"), Values: []string{ecNode1}}}})
		if err != nil {
			t.Fatalf("DescribeInstances by filter: %v", err)
		}
		if len(out.Reservations) == 0 {
			empty++
		}
	}
	if empty < 30 || empty > 90 {
		t.Fatalf("%d of 200 filtered reads were empty, want about 30%%", empty)
	}
	// DescribeInstanceStatus misses it too.
	notFound := 0
	for range 200 {
		_, err := e.api.DescribeInstanceStatus(bg(t), &ec2.DescribeInstanceStatusInput{InstanceIds: []string{ecNode1},
			IncludeAllInstances: aws.Bool(true)})
		if awsapi.ErrorCode(err) == "InvalidInstanceID.NotFound" {
			notFound++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if notFound < 30 || notFound > 90 {
		t.Fatalf("%d of 200 status reads were NotFound, want about 30%%", notFound)
	}
	// Never for an instance without a recent change, never after the window.
	if got := e.tally(t, ecNode2, 100); got[StateRunning] != 100 {
		t.Fatalf("untouched instance: %v", got)
	}
	e.clk.advance(10 * time.Second)
	if got := e.tally(t, ecNode1, 100); got[StateStopping] != 100 {
		t.Fatalf("after the window: %v", got)
	}
}

func TestConsistencyIsDeterministicUnderASeed(t *testing.T) {
	run := func(seed uint64) []string {
		e := newECEnv(t, Consistency{StaleFor: 10 * time.Second, SpuriousNotFound: 0.3, Seed: seed})
		e.stop(t, ecNode1)
		e.clk.advance(4 * time.Second)
		var seq []string
		for range 100 {
			seq = append(seq, e.readState(t, ecNode1))
		}
		return seq
	}
	a, b, c := run(42), run(42), run(43)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave different answers")
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds gave the same 100 answers")
	}
}

func TestStaleSecurityGroups(t *testing.T) {
	e := newECEnv(t, Consistency{StaleFor: 10 * time.Second, Seed: 3})
	if _, err := e.api.ModifyNetworkInterfaceAttribute(bg(t), &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: aws.String(ecENI1), Groups: []string{ecSGIso}}); err != nil {
		t.Fatal(err)
	}
	if got := e.svc.SecurityGroups(ecENI1); !slices.Equal(got, []string{ecSGIso}) {
		t.Fatalf("truth %v", got)
	}
	out, err := e.api.DescribeNetworkInterfaces(bg(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{ecENI1}})
	if err != nil {
		t.Fatal(err)
	}
	if g := out.NetworkInterfaces[0].Groups; len(g) != 1 || aws.ToString(g[0].GroupId) != ecSGDB {
		t.Fatalf("groups right after the change: %+v, want the old group", g)
	}
	inst, err := e.api.DescribeInstances(bg(t), &ec2.DescribeInstancesInput{InstanceIds: []string{ecNode1}})
	if err != nil {
		t.Fatal(err)
	}
	if g := inst.Reservations[0].Instances[0].SecurityGroups; len(g) != 1 || aws.ToString(g[0].GroupId) != ecSGDB {
		t.Fatalf("instance groups right after the change: %+v, want the old group", g)
	}
	e.clk.advance(10 * time.Second)
	out, err = e.api.DescribeNetworkInterfaces(bg(t), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{ecENI1}})
	if err != nil {
		t.Fatal(err)
	}
	if g := out.NetworkInterfaces[0].Groups; len(g) != 1 || aws.ToString(g[0].GroupId) != ecSGIso {
		t.Fatalf("groups after the window: %+v", g)
	}
}

func TestStaleStatusListsAStoppedInstanceAsRunning(t *testing.T) {
	e := newECEnv(t, Consistency{StaleFor: 10 * time.Second, Seed: 5})
	e.stop(t, ecNode1)
	out, err := e.api.DescribeInstanceStatus(bg(t), &ec2.DescribeInstanceStatusInput{InstanceIds: []string{ecNode1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.InstanceStatuses) != 1 || out.InstanceStatuses[0].InstanceState.Name != ec2types.InstanceStateNameRunning ||
		out.InstanceStatuses[0].InstanceStatus.Status != ec2types.SummaryStatusOk {
		t.Fatalf("stale status %+v, want the pre-stop running/ok", out.InstanceStatuses)
	}
}

func TestSetConsistencyRejectsABadProbability(t *testing.T) {
	if err := New(nil).SetConsistency(Consistency{StaleFor: time.Second, SpuriousNotFound: 1.5}); err == nil {
		t.Fatal("SpuriousNotFound 1.5 accepted")
	}
}
