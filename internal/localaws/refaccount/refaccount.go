// Package refaccount serves, for tests, the reference AWS account: the
// topology testdata/topology/reference.yaml, which the sample cluster
// configuration events/cluster-config.json describes, with the EC2, Route 53
// and Secrets Manager emulators over HTTP, and real SDK clients for it.
package refaccount

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
	"github.com/switchyard/switchyard/internal/localaws/route53sim"
	"github.com/switchyard/switchyard/internal/localaws/smsim"
)

// Account is the served account.
type Account struct {
	URL      string // the emulator's endpoint
	Clients  *awsall.Clients
	Topology *localaws.Topology
	Secrets  *smsim.Service
}

// Serve loads the reference topology from the repository at repo, lets
// edit change it, and serves it until the test ends; the clients call as
// accessKeyID.
func Serve(t testing.TB, repo, accessKeyID string, edit func(*localaws.Topology)) *Account {
	t.Helper()
	topo, err := localaws.LoadTopology(filepath.Join(repo, "testdata", "topology", "reference.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(topo)
	}
	srv := localaws.NewServer()
	srv.Register(ec2sim.New(topo))
	r53, err := route53sim.New(topo)
	if err != nil {
		t.Fatal(err)
	}
	srv.Register(r53)
	sm, err := smsim.New(topo)
	if err != nil {
		t.Fatal(err)
	}
	srv.Register(sm)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := awsall.NewClients(context.Background(), awsall.LocalConfig(hs.URL, topo.Region, accessKeyID)...)
	if err != nil {
		t.Fatal(err)
	}
	return &Account{URL: hs.URL, Clients: c, Topology: topo, Secrets: sm}
}
