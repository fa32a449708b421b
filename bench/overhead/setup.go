package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
	"github.com/switchyard/switchyard/internal/localaws/ddbsim"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
	"github.com/switchyard/switchyard/internal/localaws/imdssim"
	"github.com/switchyard/switchyard/internal/localaws/sfnsim"
	"github.com/switchyard/switchyard/internal/pgharness"
)

const (
	clusterName = "overhead"
	// secretName is only named in the cluster config: the agents never
	// read it (the failover functions do).
	secretName = "switchyard/pg"
	// overlayCIDR is the reference topology's overlay IP; the agents never
	// touch routing either, but a cluster config must route somehow.
	overlayCIDR = "10.1.0.10/32"
)

// bench holds what one run started; close stops it all, last started
// first.
type bench struct {
	dir      string // temporary: the agent binary, the cluster config, agent logs
	topo     *localaws.Topology
	server   *localaws.Server
	datums   *datumCounter
	endpoint string // http://127.0.0.1:port of the emulator
	sfn      *sfnsim.Service
	machine  string // the state machine the standby's fast path would start
	pair     *pgharness.Pair
	cfg      *cluster.Config
	cfgPath  string
	agents   []*agentProc
	closers  []func() error
}

func (b *bench) onClose(fn func() error) { b.closers = append(b.closers, fn) }

func (b *bench) close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		if err := b.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	b.closers = nil
	return errors.Join(errs...)
}

// startEmulator serves the services a node agent calls (DynamoDB for the
// cluster record, CloudWatch for its metrics, EC2 for rejoin snapshots,
// Step Functions for the fast path) on one loopback endpoint, with AWS's
// throttling buckets, behind the PutMetricData counter.
func (b *bench) startEmulator(table string) error {
	t := b.topo
	b.server = localaws.NewServer()
	ddb := ddbsim.New(ddbsim.Options{Region: t.Region, AccountID: t.AccountID})
	if err := ddb.CreateTable(ddbsim.TableSpec{Name: table, HashKey: "cluster", HashKeyType: "S"}); err != nil {
		return fmt.Errorf("creating table %s: %w", table, err)
	}
	b.sfn = sfnsim.New(sfnsim.Options{Region: t.Region, AccountID: t.AccountID})
	b.onClose(func() error { b.sfn.Close(); return nil })
	// The fast path only starts it on a lost primary; a run that does shows
	// states:StartExecution in the table.
	arn, err := b.sfn.CreateStateMachine("switchyard-"+clusterName+"-failover",
		[]byte(`{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`),
		"arn:aws:iam::"+t.AccountID+":role/switchyard-"+clusterName+"-failover")
	if err != nil {
		return fmt.Errorf("creating the state machine: %w", err)
	}
	b.machine = arn
	for _, svc := range []localaws.Service{ddb, cwsim.New(cwsim.Options{Region: t.Region, AccountID: t.AccountID}), ec2sim.New(t), b.sfn} {
		b.server.Register(svc)
	}
	b.datums = &datumCounter{next: b.server}
	url, err := b.serve("emulator", b.datums)
	if err != nil {
		return err
	}
	b.endpoint = url
	return nil
}

// serve serves h on a free loopback port until close.
func (b *bench) serve(what string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listening for the %s: %w", what, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	b.onClose(srv.Close)
	return "http://" + ln.Addr().String(), nil
}

// startPair starts the synchronous pair node1 → node2.
func (b *bench) startPair(ctx context.Context, logf func(string, ...any)) error {
	pair, err := pgharness.StartPair(ctx, pgharness.PairOptions{Sync: true, Logf: logf})
	if err != nil {
		return fmt.Errorf("starting the PostgreSQL pair: %w", err)
	}
	b.pair = pair
	b.onClose(pair.Close)
	return nil
}

// nodeSpec is one node as its agent is started.
type nodeSpec struct {
	Name, Role string
	PG         *pgharness.Node
	Instance   localaws.Instance
	AZ         string
}

func (b *bench) nodes() ([]nodeSpec, error) {
	var out []nodeSpec
	for _, x := range []struct {
		role string
		pg   *pgharness.Node
	}{{"primary", b.pair.Primary}, {"standby", b.pair.Standby}} {
		n := nodeSpec{Name: x.pg.Name, Role: x.role, PG: x.pg}
		found := false
		for _, inst := range b.topo.Instances {
			if inst.Name == x.pg.Name {
				n.Instance, found = inst, true
			}
		}
		if !found {
			return nil, fmt.Errorf("the reference topology has no instance named %s", x.pg.Name)
		}
		for _, sn := range b.topo.Subnets {
			if sn.ID == n.Instance.SubnetID {
				n.AZ = sn.AvailabilityZone
			}
		}
		out = append(out, n)
	}
	return out, nil
}

// writeClusterConfig writes the cluster configuration the agents read
// (what a deployment's SWITCHYARD_CONFIG holds), leaving every timing to
// its default, and returns it parsed with those defaults applied.
func (b *bench) writeClusterConfig(nodes []nodeSpec, table string) error {
	cfg := cluster.Config{
		Name:  clusterName,
		Table: table,
		Routing: cluster.Routing{
			OverlayIP:      &cluster.OverlayIP{CIDR: overlayCIDR, VPCIDs: []string{b.topo.VPCs[0].ID}},
			ClientEndpoint: b.pair.Primary.Addr(),
		},
		Database: cluster.Database{Name: "postgres", SecretID: secretName, SSLMode: "disable"},
	}
	for _, n := range nodes {
		cfg.Nodes = append(cfg.Nodes, cluster.Node{Name: n.Name, InstanceID: n.Instance.ID, NetworkInterfaceID: n.Instance.NetworkInterfaceID,
			PrivateIP: n.Instance.PrivateIP, AvailabilityZone: n.AZ, PostgresAddr: n.PG.Addr()})
	}
	data, err := json.MarshalIndent(&cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the cluster config: %w", err)
	}
	if b.cfg, err = cluster.Parse(data); err != nil {
		return err
	}
	b.cfgPath = filepath.Join(b.dir, "cluster.json")
	if err := os.WriteFile(b.cfgPath, data, 0o644); err != nil {
		return fmt.Errorf("writing the cluster config: %w", err)
	}
	return nil
}

// localPG is how an agent on the node reaches its PostgreSQL, as the
// default --dsn does: the superuser over the Unix socket.
type localPG struct {
	SocketDir, Version string
}

func readLocalPG(ctx context.Context, n *pgharness.Node) (localPG, error) {
	conn, err := n.Connect(ctx, "postgres", pgharness.Superuser)
	if err != nil {
		return localPG{}, err
	}
	defer conn.Close(ctx)
	var dirs, version string
	if err := conn.QueryRow(ctx, "SELECT current_setting('unix_socket_directories'), current_setting('server_version')").Scan(&dirs, &version); err != nil {
		return localPG{}, fmt.Errorf("reading the socket directory of %s: %w", n.Name, err)
	}
	dir, _, _ := strings.Cut(dirs, ",")
	return localPG{SocketDir: strings.TrimSpace(dir), Version: version}, nil
}

// pgBinDir is the directory of the server binaries the harness runs.
func pgBinDir(n *pgharness.Node) string {
	return filepath.Dir(n.Command(context.Background(), "pg_ctl").Path)
}

// runAsFor is --run-as: the data directory's owner when the agent runs as
// root (as its systemd unit does), nothing otherwise.
func runAsFor(dataDir string) (string, error) {
	if os.Geteuid() != 0 {
		return "", nil
	}
	st, err := os.Stat(dataDir)
	if err != nil {
		return "", fmt.Errorf("finding the owner of %s: %w", dataDir, err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || sys.Uid == 0 {
		return "", nil
	}
	u, err := user.LookupId(strconv.FormatUint(uint64(sys.Uid), 10))
	if err != nil {
		return "", fmt.Errorf("finding the owner of %s: %w", dataDir, err)
	}
	return u.Username, nil
}

// agentProc is one nodeprobe process.
type agentProc struct {
	Node, Role, Caller string
	LogPath            string
	cmd                *exec.Cmd
	done               chan struct{}
	err                error // the exit, once done is closed
}

// runtimeEnv is the Go runtime's settings in the benchmark's environment,
// which pass through to the agents to measure them under those settings
// (docs/benchmarks.md); nil when none is set.
func runtimeEnv() map[string]string {
	var env map[string]string
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS"} {
		if v, ok := os.LookupEnv(k); ok {
			if env == nil {
				env = map[string]string{}
			}
			env[k] = v
		}
	}
	return env
}

// Caller is the access key id an agent signs with: the call log's caller.
func callerName(node string) string { return "nodeprobe-" + node }

// startAgent starts nodeprobe for n with its defaults for everything but
// what a deployment must say: where its PostgreSQL and cluster config are,
// the account pg_ctl runs as, the watchdog (none here: see the package
// documentation), its instance metadata endpoint, the state machine, and
// the emulator as the AWS endpoint. Its environment is built from scratch
// so that no SWITCHYARD_* or AWS_* variable of the caller changes a
// setting.
func (b *bench) startAgent(bin string, n nodeSpec, pg localPG) (*agentProc, error) {
	imds, err := b.serve("metadata service of "+n.Name, imdssim.New(imdssim.Instance{
		InstanceID: n.Instance.ID, AvailabilityZone: n.AZ, PrivateIP: n.Instance.PrivateIP}))
	if err != nil {
		return nil, err
	}
	runAs, err := runAsFor(n.PG.DataDir)
	if err != nil {
		return nil, err
	}
	args := []string{
		"--cluster-config", b.cfgPath,
		"--pgdata", n.PG.DataDir,
		"--pg-bindir", pgBinDir(n.PG),
		"--dsn", fmt.Sprintf("host=%s port=%d dbname=postgres user=%s", pg.SocketDir, n.PG.Port, pgharness.Superuser),
		"--watchdog", "none",
		"--imds-endpoint", imds,
		"--state-machine-arn", b.machine,
	}
	if runAs != "" {
		args = append(args, "--run-as", runAs)
	}
	p := &agentProc{Node: n.Name, Role: n.Role, Caller: callerName(n.Name), LogPath: filepath.Join(b.dir, n.Name+".log"), done: make(chan struct{})}
	logf, err := os.Create(p.LogPath)
	if err != nil {
		return nil, fmt.Errorf("creating the agent log of %s: %w", n.Name, err)
	}
	defer logf.Close() // the child has its own descriptor
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = b.dir
	p.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + b.dir, // no ~/.aws of the caller
		"AWS_ENDPOINT_URL=" + b.endpoint,
		"AWS_REGION=" + b.topo.Region,
		"AWS_ACCESS_KEY_ID=" + p.Caller,
		"AWS_SECRET_ACCESS_KEY=local-secret",
	}
	// The Go runtime's settings pass through, to measure the agent under
	// them (docs/benchmarks.md).
	for k, v := range runtimeEnv() {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	// Its own process group (a Ctrl-C reaches the benchmark, which stops
	// it), and killed with the benchmark.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting nodeprobe for %s: %w", n.Name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	b.onClose(p.stop)
	b.agents = append(b.agents, p)
	return p, nil
}

// PID is the agent's process id.
func (p *agentProc) PID() int { return p.cmd.Process.Pid }

// alive fails once the agent has exited.
func (p *agentProc) alive() error {
	select {
	case <-p.done:
		return fmt.Errorf("nodeprobe of %s exited (%v); its log ends:\n%s", p.Node, p.err, p.logTail(3000))
	default:
		return nil
	}
}

// stop sends SIGTERM, as systemd does, and kills the agent if it has not
// ended within 15 s (the unit's TimeoutStopSec).
func (p *agentProc) stop() error {
	if p.cmd.Process == nil {
		return nil
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("nodeprobe of %s ended with %w after SIGTERM", p.Node, p.err)
		}
		return nil
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("nodeprobe of %s did not stop within 15 s of SIGTERM; killed", p.Node)
	}
}

// logTail is the end of the agent's log.
func (p *agentProc) logTail(n int) string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}
