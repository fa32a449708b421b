// Command nodeprobe is Switchyard's node agent. It runs next to PostgreSQL
// on each node of a cluster and owns it: it starts and stops it as the
// cluster record says (internal/agent: primary lease, self-fencing,
// watchdog, synchronous replication), checks it every second and publishes
// heartbeats and WAL positions to CloudWatch (internal/probe). This
// package only turns flags, SWITCHYARD_* environment variables and a JSON
// config file into their configurations and runs them until SIGTERM or
// SIGINT.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/spf13/pflag"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/probe"
)

// The Go runtime's defaults for the agent, each unless its environment
// variable is set (the runtime has read it then): the agent's live heap
// is about 2 MB, which the runtime's own defaults (GOGC=100, a 4 MB
// minimum heap goal) let grow to twice that between collections
// (docs/benchmarks.md, bench/overhead).
const (
	// defaultGCPercent (GOGC) collects when the heap has grown by half
	// since the last collection: -0.6 MiB of RSS for about a collection
	// every 2-3 s, each ~2 ms of CPU (measured +0.1 % of a core at most).
	defaultGCPercent = 50
	// defaultMemoryLimit (GOMEMLIMIT; "off" removes it) is a soft limit
	// on all the runtime's memory: a backstop that makes the collector run
	// before the heap grows past it. It is soft: a heap that needs more
	// gets it, with the collector capped at half the CPU. Alone, 12 MiB
	// measured -0.5 MiB of RSS at +0.1 % of a core; 10 MiB cost 2 % of a
	// core (collecting without pause).
	defaultMemoryLimit = 12 << 20
)

func main() {
	setRuntimeDefaults(os.LookupEnv)
	if err := execute(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nodeprobe:", err)
		os.Exit(1)
	}
}

// setRuntimeDefaults applies defaultGCPercent and defaultMemoryLimit
// where GOGC and GOMEMLIMIT say nothing.
func setRuntimeDefaults(lookupEnv func(string) (string, bool)) {
	if _, set := lookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if _, set := lookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

// gcPercent is the runtime's GOGC setting, read without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

const usage = `nodeprobe: Switchyard node agent: PostgreSQL health, local recovery and CloudWatch heartbeats

nodeprobe checks the local PostgreSQL at a fixed interval, restarts it locally
(up to --restart-max times within --restart-window) when it stops, and publishes
to CloudWatch: on the primary Heartbeat 1 under {Cluster, Node} and {Cluster,
Role=primary} and PrimaryLSN under {Cluster, Node}; on a standby ReplayLagBytes
under {Cluster, Role=standby}; Heartbeat 0 from a node declared unhealthy.
Healthy values are sent every --flush-interval, bad ones within a second.

Every setting is a flag, an environment variable (shown in brackets) and a key
of the JSON --config-file (the flag name in camelCase). Flags win over the
environment, which wins over the file.

AWS credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with
AWS_SESSION_TOKEN) when set, otherwise from the EC2 instance role (the instance
profile) through instance metadata, IMDSv2 at --imds-endpoint. Nothing else is
read: no AWS_PROFILE or ~/.aws files, no web identity or container credentials;
the agent does not start when none of its sources gives credentials. The region
is AWS_REGION, else AWS_DEFAULT_REGION, else instance metadata (unless
--imds=false). AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> override the
endpoints; AWS_RETRY_MODE and AWS_MAX_ATTEMPTS the retries (default: standard,
3 attempts).

The Go runtime collects garbage at GOGC=%d and has a soft memory limit of %d MiB
unless GOGC or GOMEMLIMIT is set in the environment (GOMEMLIMIT=off removes the
limit).

Usage:
  nodeprobe [flags]

Flags:
%s`

// execute parses args (flags only) and runs the agent until ctx ends or
// SIGTERM or SIGINT arrives; --help writes the usage to out. The agent
// takes no subcommands, so it parses its flags with pflag alone: cobra
// would link text/template and its own code for nothing (about 0.1 MB
// of text every node keeps resident).
func execute(ctx context.Context, args []string, out io.Writer) error {
	s := probe.DefaultSettings()
	fs := pflag.NewFlagSet("nodeprobe", pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; --help is written below
	s.BindFlags(fs)
	fs.BoolP("help", "h", false, "help for nodeprobe")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if help, _ := fs.GetBool("help"); help {
		_, err := fmt.Fprintf(out, usage, defaultGCPercent, defaultMemoryLimit>>20, fs.FlagUsages())
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unknown command %q for \"nodeprobe\" (it takes flags only)", fs.Arg(0))
	}
	return run(ctx, fs)
}

func run(parent context.Context, flags *pflag.FlagSet) error {
	ctx, stop := signal.NotifyContext(parent, syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	s, err := probe.LoadSettings(flags, os.Getenv)
	if err != nil {
		return err
	}
	var (
		md       probe.MetadataAPI // stays a nil interface when metadata is off
		mdClient *imds.Client
	)
	if s.IMDS {
		mdClient = probe.NewMetadataClient(s.IMDSEndpoint)
		md = mdClient
	}
	// The node name comes from the cluster config by instance id only when
	// not given; otherwise identity is informative and settings are checked
	// before any metadata request.
	var cfg probe.Config
	var idErr error
	if s.Node == "" && s.ClusterConfig != "" {
		id, err := probe.ResolveIdentity(ctx, s.ExplicitIdentity(), md, s.IMDSTimeout)
		if err != nil {
			return fmt.Errorf("%w (without instance metadata, pass --node)", err)
		}
		if cfg, err = s.Config(id); err != nil {
			return err
		}
	} else {
		if cfg, err = s.Config(s.ExplicitIdentity()); err != nil {
			return err
		}
		cfg.Identity, idErr = probe.ResolveIdentity(ctx, cfg.Identity, md, s.IMDSTimeout)
	}
	log, err := probe.NewLogger(os.Stderr, s.LogLevel, cfg.Cluster, cfg.Node)
	if err != nil {
		return err
	}
	if idErr != nil {
		log.Warn("instance identity incomplete; continuing", "error", idErr)
	}
	cc, err := agentClusterConfig(s)
	if err != nil {
		return err
	}
	// The instance role is read through instance metadata even with
	// --imds=false, which only keeps the identity and region from it.
	roleMD := mdClient
	if roleMD == nil {
		roleMD = probe.NewMetadataClient(s.IMDSEndpoint)
	}
	awsCfg, credSource, err := loadAWSConfig(ctx, awsSources{Getenv: os.Getenv, Metadata: roleMD,
		RegionFromMetadata: mdClient != nil, Timeout: s.IMDSTimeout})
	if err != nil {
		return err
	}
	log.Info("AWS configuration", "region", awsCfg.Region, "credentials", credSource)
	log.Info("Go runtime", "gcPercent", gcPercent(), "memoryLimitBytes", debug.SetMemoryLimit(-1))
	var ag *agent.Agent
	p, err := probe.New(cfg, probe.Deps{CloudWatch: cloudwatch.NewFromConfig(awsCfg), Logger: log,
		RoleFilter: func(r pgnode.Role) pgnode.Role {
			if ag != nil {
				return ag.PublishedRole(r)
			}
			return r
		}})
	if err != nil {
		return err
	}
	if ag, err = newAgent(s, cc, cfg, awsCfg, p, log); err != nil {
		return err
	}
	return runBoth(ctx, p, ag)
}
