package fence_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/fence"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
)

// Ids of testdata/pair.yaml.
const (
	localSG  = "sg-0db00000000000001"
	localIso = "sg-0150000000000000a"
	node2ID  = "i-0c00000000000002c"
)

var localNode1 = cluster.Node{Name: "node1", InstanceID: "i-0a00000000000001a",
	NetworkInterfaceID: "eni-0a00000000000001a", PrivateIP: "10.0.2.10"}

// eventual is the EC2 consistency the fence tests run with: reads lag up
// to 150ms behind a change and miss a recently changed instance 30% of
// the time.
func eventual(seed uint64) ec2sim.Consistency {
	return ec2sim.Consistency{StaleFor: 150 * time.Millisecond, SpuriousNotFound: 0.3, Seed: seed}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fast polls every 10ms and retries quickly.
func fast(extra ...fence.Option) []fence.Option {
	return append([]fence.Option{fence.WithPollInterval(10 * time.Millisecond), fence.WithRetry(5*time.Millisecond, 5),
		fence.WithProbeTimeout(200 * time.Millisecond), fence.WithLogger(quiet())}, extra...)
}

func stopCfg() cluster.Fence {
	return cluster.Fence{Mode: cluster.FenceStop, StopTimeoutSeconds: 10, ConfirmObservations: 3}
}

// local is the EC2 emulator serving testdata/pair.yaml over HTTP, with the
// real SDK client for it.
type local struct {
	srv *localaws.Server
	ec2 *ec2sim.Service
	api awsapi.EC2API
}

// newLocal starts the emulator with consistency c and a 150ms stop delay.
func newLocal(t *testing.T, c ec2sim.Consistency) *local {
	t.Helper()
	topo, err := localaws.LoadTopology("testdata/pair.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc := ec2sim.New(topo)
	svc.SetStopDelay(150 * time.Millisecond)
	if err := svc.SetConsistency(c); err != nil {
		t.Fatal(err)
	}
	srv := localaws.NewServer()
	srv.Register(svc)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	opts := append(awsall.LocalConfig(hs.URL, "us-east-1", "fence-test"), config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 2 * time.Millisecond, nil })
		})
	}))
	clients, err := awsall.NewClients(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &local{srv: srv, ec2: svc, api: clients.EC2}
}

// ops lists the operations of the call log, and how many failed with code.
func (l *local) ops(code string) (ops []string, failed int) {
	for _, c := range l.srv.Calls() {
		ops = append(ops, c.Operation)
		if c.ErrorCode == code {
			failed++
		}
	}
	return ops, failed
}

func throttle() *localaws.APIError {
	return &localaws.APIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded.", HTTPStatus: http.StatusServiceUnavailable}
}

// truthProbe stands in for the old node's PostgreSQL: it answers while the
// emulator's true instance state is pending or running, as PostgreSQL on
// that instance would, whatever Describe says. It remembers the true state
// at every call.
type truthProbe struct {
	l  *local
	id string

	mu     sync.Mutex
	states []string
}

func (p *truthProbe) probe(context.Context) error {
	state := p.l.ec2.InstanceState(p.id)
	p.mu.Lock()
	p.states = append(p.states, state)
	p.mu.Unlock()
	if state == ec2sim.StatePending || state == ec2sim.StateRunning {
		return nil
	}
	return errors.New("connection refused (instance " + state + ")")
}

func (p *truthProbe) calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.states...)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
