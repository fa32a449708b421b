package preflight_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/preflight"
)

// The login against a real PostgreSQL is tested in internal/cli
// (TestValidateConnect); these cover the secret and the failures that need
// no server.

func withSecret(value string) func(*localaws.Topology) {
	return func(topo *localaws.Topology) {
		for i := range topo.Secrets {
			topo.Secrets[i].Value = value
		}
	}
}

func TestDatabaseSecret(t *testing.T) {
	c, cfg := account(t, withSecret("not json"))
	checks := run(t, c, cfg, preflight.Options{Connect: true})
	if ch := checks["database secret switchyard/pg"]; ch.Status != preflight.Fail || !strings.Contains(ch.Fix, "aws secretsmanager put-secret-value --secret-id switchyard/pg") {
		t.Errorf("malformed secret: %+v", ch)
	}
	if _, ok := checks["database login node1"]; ok {
		t.Error("logged in without a login")
	}

	cfg.Database.SecretID = "switchyard/none"
	if ch := run(t, c, cfg, preflight.Options{Connect: true})["database secret switchyard/none"]; ch.Status != preflight.Fail ||
		!strings.Contains(ch.Detail, "ResourceNotFoundException") || !strings.Contains(ch.Fix, "DatabaseSecretArn") {
		t.Errorf("missing secret: %+v", ch)
	}
	if checks := run(t, c, cfg, preflight.Options{}); len(checks) != 9 {
		t.Errorf("without Connect: %d checks, want no database check", len(checks))
	}
}

// TestDatabaseLoginFailures: nothing listening, and a server that accepts
// the connection but never answers, each named with its fix. The secret's
// password never appears.
func TestDatabaseLoginFailures(t *testing.T) {
	c, cfg := account(t, nil)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	cfg.Nodes[0].PostgresAddr = closedAddr
	cfg.Nodes[1].PostgresAddr = silent.Addr().String()
	cfg.Database.ConnectTimeoutSeconds = 1
	cfg.Database.SSLMode = "disable"
	start := time.Now()
	checks := run(t, c, cfg, preflight.Options{Connect: true})
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s with a 1 s connect timeout", took)
	}
	if ch := checks["database secret switchyard/pg"]; ch.Status != preflight.OK || ch.Detail != "login switchyard (password not shown)" {
		t.Errorf("secret: %+v", ch)
	}
	if ch := checks["database login node1"]; ch.Status != preflight.Fail || !strings.Contains(ch.Fix, "nothing listens on "+closedAddr) {
		t.Errorf("closed port: %+v", ch)
	}
	if ch := checks["database login node2"]; ch.Status != preflight.Fail || !strings.Contains(ch.Fix, "no answer within 1s") ||
		!strings.Contains(ch.Fix, "from inside the VPC") {
		t.Errorf("silent server: %+v", ch)
	}
	for name, ch := range checks {
		if strings.Contains(ch.Detail+ch.Fix, "local-stack-only-c4f1e9") {
			t.Errorf("%s shows the password: %+v", name, ch)
		}
	}
}
