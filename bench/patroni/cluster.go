package patroni

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgnode"
)

// Options configure a Cluster.
type Options struct {
	Settings Settings
	// Logf receives progress lines (nil: discarded).
	Logf func(format string, args ...any)
	// KeepDir keeps the temporary directory (logs, data) after Close.
	KeepDir bool
}

// Cluster is a running etcd, two Patroni members and HAProxy, all on
// loopback, run by an unprivileged user in a temporary directory.
type Cluster struct {
	Settings Settings
	Ports    Ports
	// Dir holds everything; Close removes it unless KeepDir.
	Dir   string
	Nodes [2]*Node

	opts    Options
	env     *env
	etcd    *proc
	haproxy *proc
}

// Node is one Patroni member and its PostgreSQL.
type Node struct {
	Name     string
	Dir      string // Patroni's working directory, config and log
	DataDir  string
	PGPort   int
	RESTPort int
	patroni  *proc
}

// RESTAddr is the member's Patroni REST API.
func (n *Node) RESTAddr() string { return addr(n.RESTPort) }

// SuperuserDSN connects to the member's PostgreSQL directly.
func (n *Node) SuperuserDSN() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d dbname=%s user=%s sslmode=disable connect_timeout=5",
		n.PGPort, localstack.DatabaseName, Superuser)
}

// ClientAddr is where clients connect: HAProxy.
func (c *Cluster) ClientAddr() string { return addr(c.Ports.HAProxy) }

func (c *Cluster) logf(format string, args ...any) {
	if c.opts.Logf != nil {
		c.opts.Logf(format, args...)
	}
}

// Start brings up etcd, bootstraps node1 as the leader, adds node2 as its
// synchronous replica, creates the client's role, database and table, and
// starts HAProxy. On error it tears down what it started.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if err := opts.Settings.Validate(); err != nil {
		return nil, err
	}
	e, err := findEnv()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Settings: opts.Settings, opts: opts, env: e}
	defer func() {
		if err != nil {
			if cerr := c.Close(); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}
	}()
	if c.Dir, err = os.MkdirTemp("", "switchyard-patroni-"); err != nil {
		return nil, fmt.Errorf("creating the cluster's directory: %w", err)
	}
	if err := e.chown(c.Dir); err != nil {
		return nil, err
	}
	ports, err := freePorts(7)
	if err != nil {
		return nil, err
	}
	c.Ports = Ports{EtcdClient: ports[0], EtcdPeer: ports[1], HAProxy: ports[2],
		PG: [2]int{ports[3], ports[4]}, REST: [2]int{ports[5], ports[6]}}

	if err := c.startEtcd(ctx); err != nil {
		return nil, err
	}
	for i, name := range nodeNames {
		dir := filepath.Join(c.Dir, name)
		c.Nodes[i] = &Node{Name: name, Dir: dir, DataDir: filepath.Join(dir, "data"), PGPort: c.Ports.PG[i], RESTPort: c.Ports.REST[i]}
		if err := e.mkdirOwned(dir); err != nil {
			return nil, err
		}
		cfg, err := patroniConfig(c.Settings, c.Ports, i, dir, e.pgBin)
		if err != nil {
			return nil, err
		}
		if err := e.writeOwned(filepath.Join(dir, "patroni.yml"), cfg); err != nil {
			return nil, err
		}
	}
	if err := c.startPatroni(c.Nodes[0]); err != nil {
		return nil, err
	}
	if err := c.waitFor(ctx, 2*time.Minute, "node1 to bootstrap as the leader", func(ctx context.Context) (bool, string) {
		return isPrimary(ctx, c.Nodes[0].RESTAddr()), ""
	}); err != nil {
		return nil, err
	}
	if err := c.createClientObjects(ctx, c.Nodes[0]); err != nil {
		return nil, err
	}
	if err := c.startPatroni(c.Nodes[1]); err != nil {
		return nil, err
	}
	if err := c.startHAProxy(); err != nil {
		return nil, err
	}
	if _, _, err := c.WaitHealthy(ctx, 3*time.Minute); err != nil {
		return nil, err
	}
	c.logf("patroni-%s: etcd %s, HAProxy %s, %s (PG %d, REST %d), %s (PG %d, REST %d), in %s",
		c.Settings.Name, addr(c.Ports.EtcdClient), c.ClientAddr(), c.Nodes[0].Name, c.Nodes[0].PGPort, c.Nodes[0].RESTPort,
		c.Nodes[1].Name, c.Nodes[1].PGPort, c.Nodes[1].RESTPort, c.Dir)
	return c, nil
}

// freePorts reserves n distinct free loopback ports (released before use).
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free loopback port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (c *Cluster) startEtcd(ctx context.Context) error {
	dir := filepath.Join(c.Dir, "etcd")
	if err := c.env.mkdirOwned(dir); err != nil {
		return err
	}
	p, err := c.env.start("etcd", dir, filepath.Join(dir, "etcd.log"), c.env.etcd, etcdArgs(filepath.Join(dir, "data"), c.Ports)...)
	if err != nil {
		return err
	}
	c.etcd = p
	url := "http://" + addr(c.Ports.EtcdClient) + "/v2/keys/"
	return c.waitFor(ctx, 30*time.Second, "etcd's v2 API", func(ctx context.Context) (bool, string) {
		if p.exited() {
			return false, "etcd exited: " + c.logTail(filepath.Join(dir, "etcd.log"))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := restClient.Do(req)
		if err != nil {
			return false, ""
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, ""
	})
}

func (c *Cluster) startPatroni(n *Node) error {
	p, err := c.env.start("patroni "+n.Name, n.Dir, filepath.Join(n.Dir, "patroni.log"), c.env.patroni, filepath.Join(n.Dir, "patroni.yml"))
	if err != nil {
		return err
	}
	n.patroni = p
	return nil
}

func (c *Cluster) startHAProxy() error {
	dir := filepath.Join(c.Dir, "haproxy")
	if err := c.env.mkdirOwned(dir); err != nil {
		return err
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := c.env.writeOwned(cfg, []byte(haproxyConfig(c.Ports))); err != nil {
		return err
	}
	// -db: stay in the foreground; -W is not needed for one process.
	p, err := c.env.start("haproxy", dir, filepath.Join(dir, "haproxy.log"), c.env.haproxy, "-db", "-f", cfg)
	if err != nil {
		return err
	}
	c.haproxy = p
	return nil
}

// createClientObjects creates the client's role, database and table on
// the leader (Patroni 3 no longer creates users at bootstrap).
func (c *Cluster) createClientObjects(ctx context.Context, leader *Node) error {
	dsn := strings.Replace(leader.SuperuserDSN(), "dbname="+localstack.DatabaseName, "dbname=postgres", 1)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", leader.Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, q := range []string{
		fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s'`, AppUser, AppPassword),
		fmt.Sprintf(`CREATE DATABASE %s OWNER %s`, localstack.DatabaseName, AppUser),
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("on %s: %s: %w", leader.Name, q, err)
		}
	}
	app, err := pgx.Connect(ctx, leader.SuperuserDSN())
	if err != nil {
		return fmt.Errorf("connecting to %s's %s database: %w", leader.Name, localstack.DatabaseName, err)
	}
	defer app.Close(context.WithoutCancel(ctx))
	if _, err := app.Exec(ctx, `CREATE TABLE `+localstack.WriterTable+` (id bigint PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT clock_timestamp());
		GRANT ALL ON `+localstack.WriterTable+` TO `+AppUser); err != nil {
		return fmt.Errorf("creating %s on %s: %w", localstack.WriterTable, leader.Name, err)
	}
	return nil
}

// Roles returns the leader and the other member as Patroni reports them.
func (c *Cluster) Roles(ctx context.Context) (leader, other *Node, view clusterView, err error) {
	var errs []error
	for _, n := range c.Nodes {
		v, err := getCluster(ctx, n.RESTAddr())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, m := range v.Members {
			if m.Role == "leader" {
				if l := c.node(m.Name); l != nil {
					return l, c.other(l), v, nil
				}
			}
		}
		return nil, nil, v, fmt.Errorf("no leader: %s", v)
	}
	return nil, nil, clusterView{}, errors.Join(errs...)
}

func (c *Cluster) node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func (c *Cluster) other(n *Node) *Node {
	if c.Nodes[0] == n {
		return c.Nodes[1]
	}
	return c.Nodes[0]
}

// WaitHealthy waits for two running members, the leader's PostgreSQL out
// of recovery, the other as its synchronous standby with no lag, and a
// write through HAProxy landing on the leader.
func (c *Cluster) WaitHealthy(ctx context.Context, limit time.Duration) (leader, replica *Node, err error) {
	err = c.waitFor(ctx, limit, "a healthy two-member cluster", func(ctx context.Context) (bool, string) {
		for _, n := range c.Nodes {
			if n.patroni == nil || n.patroni.exited() {
				return false, n.Name + "'s Patroni is not running"
			}
		}
		l, r, v, err := c.Roles(ctx)
		if err != nil {
			return false, err.Error()
		}
		var ok int
		for _, m := range v.Members {
			lagZero := m.Lag == nil || m.Lag == float64(0)
			switch {
			case m.Name == l.Name && m.State == "running":
				ok++
			case m.Name == r.Name && m.Role == "sync_standby" && m.State == "running" && lagZero:
				ok++
			}
		}
		if ok != 2 {
			return false, v.String()
		}
		if !isPrimary(ctx, l.RESTAddr()) {
			return false, l.Name + " does not answer 200 on /primary"
		}
		if err := c.probeClient(ctx, l); err != nil {
			return false, err.Error()
		}
		leader, replica = l, r
		return true, ""
	})
	return leader, replica, err
}

// probeClient connects through HAProxy as the client and checks that it
// reaches a writable server on the leader's port.
func (c *Cluster) probeClient(ctx context.Context, leader *Node) error {
	dsn := fmt.Sprintf("host=127.0.0.1 port=%d dbname=%s user=%s password=%s sslmode=disable",
		c.Ports.HAProxy, localstack.DatabaseName, AppUser, AppPassword)
	conn, err := pgnode.Connect(ctx, dsn, 2*time.Second)
	if err != nil {
		return fmt.Errorf("client through HAProxy: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var inRecovery bool
	var port int
	if err := conn.QueryRow(ctx, `SELECT pg_is_in_recovery(), current_setting('port')::int`).Scan(&inRecovery, &port); err != nil {
		return fmt.Errorf("client through HAProxy: %w", err)
	}
	if inRecovery || port != leader.PGPort {
		return fmt.Errorf("HAProxy sends the client to port %d (in recovery: %v), want the leader %s (%d)", port, inRecovery, leader.Name, leader.PGPort)
	}
	return nil
}

// waitFor polls cond every 250 ms until it holds, limit passes or ctx
// ends; the error names what was awaited and cond's last word.
func (c *Cluster) waitFor(ctx context.Context, limit time.Duration, what string, cond func(context.Context) (bool, string)) error {
	deadline := time.Now().Add(limit)
	var last string
	for {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		ok, why := cond(cctx)
		cancel()
		if ok {
			return nil
		}
		if why != "" {
			last = why
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting %s for %s: %s (logs in %s)", limit, what, last, c.Dir)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// logTail is the end of a log file, for error messages.
func (c *Cluster) logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return strings.TrimSpace(string(b))
}

// Close stops HAProxy, both members (Patroni shuts its PostgreSQL down;
// anything left is killed) and etcd, and removes the directory.
func (c *Cluster) Close() error {
	var errs []error
	if c.haproxy != nil {
		c.haproxy.stop(5 * time.Second)
	}
	for _, n := range c.Nodes {
		if n == nil {
			continue
		}
		if n.patroni != nil {
			n.patroni.stop(30 * time.Second)
		}
		if err := killTree(n.Dir, n.DataDir); err != nil {
			errs = append(errs, fmt.Errorf("stopping %s: %w", n.Name, err))
		}
	}
	if c.etcd != nil {
		c.etcd.stop(5 * time.Second)
	}
	if c.Dir != "" && !c.opts.KeepDir && len(errs) == 0 {
		if err := os.RemoveAll(c.Dir); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", c.Dir, err))
		}
	}
	return errors.Join(errs...)
}
