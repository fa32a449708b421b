package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/probe"
	"github.com/switchyard/switchyard/internal/store"
)

// newAgent builds the part of the node agent that owns PostgreSQL, or nil
// with --monitor-only (cc nil).
func newAgent(s probe.Settings, cc *cluster.Config, cfg probe.Config, awsCfg aws.Config, p *probe.Probe, log *slog.Logger) (*agent.Agent, error) {
	if cc == nil {
		log.Warn("monitor-only: this node's PostgreSQL is not owned by Switchyard; a former primary can come back writable")
		return nil, nil
	}
	ctl := agent.PGCtl{BinDir: s.PGBinDir, Data: s.PGData, LogFile: s.PGLog, RejoinDSN: s.RejoinDSN, Node: cfg.Node}
	if s.RunAs != "" {
		ctl.RunAs = []string{"runuser", "-u", s.RunAs, "--"}
	}
	var dog agent.Watchdog = &agent.DevWatchdog{Path: s.Watchdog}
	if s.Watchdog == "none" {
		log.Warn("no watchdog: a hung agent cannot take PostgreSQL down; the state machine must fence with a hard stop")
		dog = agent.NoWatchdog{}
	}
	admin := s.AdminDSN
	if admin == "" {
		admin = s.DSN
	}
	deps := agent.Deps{Store: store.New(dynamodb.NewFromConfig(awsCfg), cc.Table), Controller: ctl, Watchdog: dog,
		Publish: p.AddNodeSample, PublishCluster: p.AddClusterSample, Log: log.With("component", "agent")}
	if n, ok := cc.Node(cfg.Node); ok && n.InstanceID != "" {
		deps.Snapshot = agent.EBSSnapshots(ec2.NewFromConfig(awsCfg), n.InstanceID, cc.Name, cfg.Node)
	}
	if s.StateMachineARN != "" {
		deps.StartFailover = agent.StepFunctionsStarter(sfn.NewFromConfig(awsCfg), s.StateMachineARN)
	} else {
		log.Warn("no --state-machine-arn: the fast path is off; a primary loss is detected by the alarms only")
	}
	return agent.New(agent.Config{Cluster: cc, Node: cfg.Node, AdminDSN: admin, Interval: cfg.Interval, CheckTimeout: cfg.CheckTimeout}, deps)
}

// agentClusterConfig checks what owning PostgreSQL needs and reads the
// cluster configuration, before the AWS configuration is loaded: nil with
// --monitor-only.
func agentClusterConfig(s probe.Settings) (*cluster.Config, error) {
	if s.MonitorOnly {
		return nil, nil
	}
	if s.PGData == "" || s.ClusterConfig == "" {
		return nil, errors.New("the node agent owns PostgreSQL: give --pgdata and --cluster-config (or --monitor-only to only publish heartbeats)")
	}
	cc, err := cluster.Load(s.ClusterConfig)
	if err != nil {
		return nil, err
	}
	if err := probe.CheckFlushFitsStale(s.FlushInterval, cc.HeartbeatStale()); err != nil {
		return nil, err
	}
	return cc, nil
}

// runBoth runs the probe and, when there is one, the agent, until ctx ends.
func runBoth(ctx context.Context, p *probe.Probe, a *agent.Agent) error {
	if a == nil {
		return p.Run(ctx)
	}
	errs := make(chan error, 2)
	go func() { errs <- p.Run(ctx) }()
	go func() { errs <- a.Run(ctx) }()
	var first error
	for range 2 {
		if err := <-errs; err != nil && first == nil {
			first = fmt.Errorf("node agent: %w", err)
		}
	}
	return first
}
