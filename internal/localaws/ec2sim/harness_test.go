package ec2sim_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
)

// Ids of the reference topology (testdata/topology/reference.yaml).
const (
	refVPC         = "vpc-07634a7d247151222"
	refSubnetA1    = "subnet-0736fd41f08cf38cd"
	refSubnetC1    = "subnet-0854f20bbe208f8ea"
	refSubnetA2    = "subnet-0374f21a8e1c22245"
	refSubnetC2    = "subnet-02fd220bb4a543de2"
	refMainRTB     = "rtb-0d6e3b30df197e5da"
	refPublicRTB   = "rtb-0ca9208cf25922056"
	refPrivateARTB = "rtb-0f8b6e0c9dcdab1f6"
	refPrivateCRTB = "rtb-05f660c2254f91c10"
	refSGDB        = "sg-09c713cc03fd876eb"
	refSGIsolation = "sg-0cc090b5074d62940"
	refSGLambda    = "sg-0e57c1a9b2d3f4086"
	refENI1        = "eni-0d132fa596468253e"
	refENI2        = "eni-069d21676ba6be710"
	refNode1       = "i-0c460e6afa6d2ca4c"
	refNode2       = "i-01fb331160654d593"
	refIGW         = "igw-00b350b31fcebfce3"
	refNATA        = "nat-0d4fb4d3ff589952a"
	refNATC        = "nat-0cc2c55c6cfc51522"
	refEIP         = "eipalloc-00f47ce564d1d6f09"
	refEIPAddress  = "203.0.113.10"
	overlayCIDR    = "10.1.0.10/32"
)

// harness is an emulator with the EC2 service behind a real HTTP server.
type harness struct {
	t      *testing.T
	server *localaws.Server
	ec2    *ec2sim.Service
	url    string
	client *ec2.Client // access key "test-client", SDK default retries
}

// newHarness serves the reference topology.
func newHarness(t *testing.T) *harness {
	t.Helper()
	topo, err := localaws.LoadTopology(filepath.Join("..", "..", "..", "testdata", "topology", "reference.yaml"))
	if err != nil {
		t.Fatalf("loading reference topology: %v", err)
	}
	return newHarnessWith(t, topo)
}

func newHarnessWith(t *testing.T, topo *localaws.Topology) *harness {
	t.Helper()
	srv := localaws.NewServer()
	svc := ec2sim.New(topo)
	srv.Register(svc)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	h := &harness{t: t, server: srv, ec2: svc, url: hs.URL}
	h.client = h.newClient("test-client", 0)
	return h
}

// newClient builds a real SDK client for the emulator. maxAttempts 0 keeps
// the SDK's default retries; 1 disables them.
func (h *harness) newClient(accessKeyID string, maxAttempts int) *ec2.Client {
	h.t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), awsall.LocalConfig(h.url, "us-east-1", accessKeyID)...)
	if err != nil {
		h.t.Fatalf("loading SDK config: %v", err)
	}
	return ec2.NewFromConfig(cfg, func(o *ec2.Options) {
		if maxAttempts > 0 {
			o.RetryMaxAttempts = maxAttempts
		}
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantCode fails unless err is an AWS API error with code and, when status
// is not 0, that HTTP status.
func wantCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got success", code)
	}
	if got := awsapi.ErrorCode(err); got != code {
		t.Fatalf("want error code %s, got %q (%v)", code, got, err)
	}
	if status != 0 {
		var re *awshttp.ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("error %v carries no HTTP response", err)
		}
		if re.HTTPStatusCode() != status {
			t.Fatalf("%s: want HTTP %d, got %d", code, status, re.HTTPStatusCode())
		}
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func filter(name string, values ...string) []ec2types.Filter {
	return []ec2types.Filter{{Name: aws.String(name), Values: values}}
}

// sameSet reports whether got and want hold the same strings, in any order.
func sameSet(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		<-tick.C
	}
}
