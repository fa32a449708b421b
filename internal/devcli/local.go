package devcli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
	"github.com/switchyard/switchyard/internal/localaws/ddbsim"
	"github.com/switchyard/switchyard/internal/localaws/ec2sim"
	"github.com/switchyard/switchyard/internal/localaws/eventbus"
	"github.com/switchyard/switchyard/internal/localaws/route53sim"
	"github.com/switchyard/switchyard/internal/localaws/sfnsim"
	"github.com/switchyard/switchyard/internal/localaws/smsim"
)

// DefaultLocalListen is where local aws listens unless told otherwise
// (the port the AWS tooling conventionally uses for local emulators).
const DefaultLocalListen = "127.0.0.1:4566"

func newLocalCommand(env cli.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Run parts of the local stack as processes",
		Args:  cli.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newLocalAWSCommand(env))
	return cmd
}

type localAWSFlags struct {
	topology   string
	listen     string
	noThrottle bool
	tables     []string
}

func newLocalAWSCommand(env cli.Env) *cobra.Command {
	a := &tool{env: env}
	var f localAWSFlags
	cmd := &cobra.Command{
		Use:   "aws --topology FILE [--listen 127.0.0.1:4566] [--no-throttle] [--table NAME]...",
		Short: "Run the AWS emulator (EC2, Route 53, CloudWatch, Step Functions, DynamoDB, Secrets Manager)",
		Long: "local aws serves the wire-compatible AWS emulator on one HTTP endpoint until\n" +
			"interrupted (SIGINT/SIGTERM), seeded with the network of a topology file\n" +
			"(localaws.Topology: VPCs, subnets, route tables, ENIs, instances, Elastic IPs,\n" +
			"hosted zones, secrets). Point any AWS SDK or the AWS CLI at it with\n" +
			"AWS_ENDPOINT_URL and any credentials.\n\n" +
			"Limits of this mode: Step Functions has no task handlers, so an execution whose\n" +
			"definition reaches a Task state fails there (States.TaskFailed: the resource is\n" +
			"not resolved); Pass, Choice, Wait, Succeed and Fail states run. CloudWatch alarms\n" +
			"are evaluated every second, but no EventBridge rule exists, so an alarm starts\n" +
			"nothing. DynamoDB starts empty: --table creates cluster-record tables (hash key\n" +
			"\"cluster\", S). The full local stack with handlers and PostgreSQL is 'switchyard demo'.",
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runLocalAWS(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.topology, "topology", "", "topology file (YAML or JSON) seeding the emulated account (required)")
	fl.StringVar(&f.listen, "listen", DefaultLocalListen, "host:port to listen on (port 0 picks a free port)")
	fl.BoolVar(&f.noThrottle, "no-throttle", false, "switch off AWS's token-bucket throttling")
	fl.StringArrayVar(&f.tables, "table", nil, "create this DynamoDB table for cluster records (repeatable)")
	return cmd
}

// emulator is the running set of emulated services.
type emulator struct {
	server *localaws.Server
	sfn    *sfnsim.Service
	cw     *cwsim.Service
	bus    *eventbus.Bus
}

func (a *tool) runLocalAWS(ctx context.Context, f localAWSFlags) error {
	if f.topology == "" {
		return cli.UsageErrorf("--topology is required: the file that seeds the emulated network (e.g. testdata/topology/reference.yaml)")
	}
	if _, _, err := net.SplitHostPort(f.listen); err != nil {
		return cli.UsageErrorf("--listen %q is not host:port: %v", f.listen, err)
	}
	for _, t := range f.tables {
		if err := cli.CheckTableName(t); err != nil {
			return err
		}
	}
	topo, err := localaws.LoadTopology(f.topology)
	if err != nil {
		return &cli.UsageError{Err: fmt.Errorf("--topology: %w", err)}
	}
	if len(topo.VPCs) == 0 && len(topo.HostedZones) == 0 && len(topo.Secrets) == 0 {
		return cli.UsageErrorf("--topology %s declares no VPC, hosted zone or secret: is it a topology file (see testdata/topology/reference.yaml)?", f.topology)
	}
	em, err := newEmulator(topo, f)
	if err != nil {
		return err
	}
	defer em.close()
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", f.listen, err)
	}
	endpoint := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: em.server, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if err := a.printEmulatorReady(endpoint, topo, f); err != nil {
		_ = srv.Close()
		return err
	}
	select {
	case err := <-served:
		return fmt.Errorf("serving the emulator: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving the emulator: %w", err)
	}
	if !a.env.JSONOutput() {
		fmt.Fprintln(a.env.Stderr(), "emulator stopped")
	}
	return nil
}

// newEmulator builds every emulated service from the topology and
// registers it on one Server.
func newEmulator(topo *localaws.Topology, f localAWSFlags) (*emulator, error) {
	r53, err := route53sim.New(topo)
	if err != nil {
		return nil, fmt.Errorf("seeding Route 53 from %s: %w", f.topology, err)
	}
	sm, err := smsim.New(topo)
	if err != nil {
		return nil, fmt.Errorf("seeding Secrets Manager from %s: %w", f.topology, err)
	}
	ddb := ddbsim.New(ddbsim.Options{Region: topo.Region, AccountID: topo.AccountID})
	for _, t := range f.tables {
		if err := ddb.CreateTable(ddbsim.TableSpec{Name: t, HashKey: "cluster", HashKeyType: "S"}); err != nil {
			return nil, fmt.Errorf("creating table %s: %w", t, err)
		}
	}
	em := &emulator{server: localaws.NewServer(), bus: eventbus.New(eventbus.Options{})}
	em.cw = cwsim.New(cwsim.Options{Region: topo.Region, AccountID: topo.AccountID, Publisher: em.bus})
	em.sfn = sfnsim.New(sfnsim.Options{Region: topo.Region, AccountID: topo.AccountID})
	for _, svc := range []localaws.Service{ec2sim.New(topo), r53, em.cw, em.sfn, ddb, sm} {
		em.server.Register(svc)
	}
	em.server.SetThrottling(!f.noThrottle)
	em.cw.Start()
	return em, nil
}

func (em *emulator) close() {
	em.cw.Stop()
	em.sfn.Close()
	em.bus.Close()
}

// localAWSReady is the JSON line local aws prints once it serves.
type localAWSReady struct {
	Endpoint   string   `json:"endpoint"`
	Region     string   `json:"region"`
	AccountID  string   `json:"accountId"`
	Services   []string `json:"services"`
	Throttling bool     `json:"throttling"`
	Tables     []string `json:"tables,omitempty"`
}

// emulatedServices are the signing names the emulator answers.
var emulatedServices = []string{"ec2", "route53", "monitoring", "states", "dynamodb", "secretsmanager"}

func (a *tool) printEmulatorReady(endpoint string, topo *localaws.Topology, f localAWSFlags) error {
	region := topo.Region
	if region == "" {
		region = "us-east-1"
	}
	account := topo.AccountID
	if account == "" {
		account = "123456789012"
	}
	if a.env.JSONOutput() {
		return cli.WriteJSON(a.env.Stdout(), localAWSReady{Endpoint: endpoint, Region: region, AccountID: account,
			Services: emulatedServices, Throttling: !f.noThrottle, Tables: f.tables})
	}
	throttling := "on (AWS's bucket sizes)"
	if f.noThrottle {
		throttling = "off"
	}
	fmt.Fprintf(a.env.Stdout(), "AWS emulator listening on %s\n", endpoint)
	fmt.Fprintf(a.env.Stdout(), "  seeded from %s (region %s, account %s); throttling %s\n", f.topology, region, account, throttling)
	fmt.Fprintf(a.env.Stdout(), "  services: EC2, Route 53, CloudWatch, Step Functions (no task handlers), DynamoDB, Secrets Manager\n")
	for _, t := range f.tables {
		fmt.Fprintf(a.env.Stdout(), "  table %s created (hash key cluster)\n", t)
	}
	fmt.Fprintf(a.env.Stdout(), "point clients at it with:\n")
	fmt.Fprintf(a.env.Stdout(), "  export AWS_ENDPOINT_URL=%s\n", endpoint)
	fmt.Fprintf(a.env.Stdout(), "  export AWS_REGION=%s AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local\n", region)
	fmt.Fprintf(a.env.Stdout(), "stop with Ctrl-C\n")
	return nil
}
