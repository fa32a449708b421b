package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/store"
)

type pauseFlags struct {
	cluster, table, reason, by string
	duration                   time.Duration
}

func (f *pauseFlags) bind(cmd *cobra.Command, pause bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.cluster, "cluster", "", "cluster name (required)")
	fl.StringVar(&f.table, "table", "", "DynamoDB table of the cluster record (default: switchyard-CLUSTER)")
	fl.StringVar(&f.by, "by", defaultOperator(), "who, recorded in the history")
	if pause {
		fl.StringVar(&f.reason, "reason", "", "why, recorded in the history and shown by status (required)")
		fl.DurationVar(&f.duration, "for", 0, "end maintenance mode by itself after this long (default: until resume)")
	}
}

func defaultOperator() string {
	user := os.Getenv("USER")
	if user == "" {
		user = "operator"
	}
	host, _ := os.Hostname()
	if host == "" {
		return user
	}
	return user + "@" + host
}

func newPauseCommand(a *app) *cobra.Command {
	var f pauseFlags
	cmd := &cobra.Command{
		Use:   "pause --cluster NAME --reason TEXT [--for DURATION]",
		Short: "Turn maintenance mode on: automatic failover is recorded but does nothing",
		Long: "pause puts the cluster in maintenance mode (in its record): the alarms' and the\n" +
			"fast path's executions are recorded as \"maintenance mode\" and change nothing, and\n" +
			"the node agents neither restart a stopped PostgreSQL nor rejoin a former primary.\n" +
			"Manual failovers and switchovers still run, and the agents still enforce the\n" +
			"primary lease. --for ends it by itself; otherwise run switchyard resume.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runPause(cmd.Context(), f) },
	}
	f.bind(cmd, true)
	return cmd
}

func newResumeCommand(a *app) *cobra.Command {
	var f pauseFlags
	cmd := &cobra.Command{
		Use:   "resume --cluster NAME",
		Short: "Turn maintenance mode off: automatic failover acts again",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runResume(cmd.Context(), f) },
	}
	f.bind(cmd, false)
	return cmd
}

func (f *pauseFlags) check() error {
	if err := checkCluster(f.cluster); err != nil {
		return err
	}
	f.table = clusterTable(f.table, f.cluster)
	if err := checkTableName(f.table); err != nil {
		return err
	}
	if strings.TrimSpace(f.by) == "" {
		return usageErrorf("--by must not be empty: the history records who paused")
	}
	if f.duration < 0 {
		return usageErrorf("--for must not be negative, got %s", f.duration)
	}
	if len(f.reason) > MaxReasonLength {
		return usageErrorf("--reason is %d bytes long; at most %d are recorded", len(f.reason), MaxReasonLength)
	}
	return nil
}

func (a *app) runPause(ctx context.Context, f pauseFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	if strings.TrimSpace(f.reason) == "" {
		return usageErrorf("--reason is required: status shows it to whoever finds the cluster paused")
	}
	clients, err := a.clientsIn(ctx, "")
	if err != nil {
		return err
	}
	if _, err := readRecord(ctx, clients, f.cluster, f.table); err != nil {
		return err
	}
	now := a.now()
	p := store.Pause{By: f.by, Reason: strings.TrimSpace(f.reason), Since: now}
	if f.duration > 0 {
		p.Until = now.Add(f.duration)
	}
	if _, err := store.New(clients.DynamoDB, f.table).SetPause(ctx, f.cluster, p); err != nil {
		return fmt.Errorf("pausing cluster %q: %w", f.cluster, err)
	}
	if a.jsonOutput() {
		return writeJSON(a.stdout, map[string]any{"cluster": f.cluster, "maintenance": p})
	}
	until := "until switchyard resume"
	if !p.Until.IsZero() {
		until = "until " + formatTime(p.Until)
	}
	fmt.Fprintf(a.stdout, "cluster %s is in maintenance mode %s: automatic failover is off; manual failover and switchover still work\n", f.cluster, until)
	return nil
}

func (a *app) runResume(ctx context.Context, f pauseFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	clients, err := a.clientsIn(ctx, "")
	if err != nil {
		return err
	}
	if _, err := readRecord(ctx, clients, f.cluster, f.table); err != nil {
		return err
	}
	if _, err := store.New(clients.DynamoDB, f.table).ClearPause(ctx, f.cluster, f.by, a.now()); err != nil {
		return fmt.Errorf("resuming cluster %q: %w", f.cluster, err)
	}
	if a.jsonOutput() {
		return writeJSON(a.stdout, map[string]any{"cluster": f.cluster, "maintenance": nil})
	}
	fmt.Fprintf(a.stdout, "cluster %s: maintenance mode off, automatic failover acts again\n", f.cluster)
	return nil
}

func newRejoinCommand(a *app) *cobra.Command {
	var f pauseFlags
	cmd := &cobra.Command{
		Use:   "rejoin NODE --cluster NAME",
		Short: "Ask a former primary's agent to rejoin it as the standby (pg_rewind)",
		Long: "rejoin records in the cluster record that NODE should rejoin. Its agent acts on it\n" +
			"even with automatic rejoin off (\"rejoin\":{\"disabled\":true}) once the recorded primary\n" +
			"serves under a valid lease: it keeps the WAL the rewind discards, runs pg_rewind\n" +
			"against the primary and starts NODE as its standby; the request is cleared when\n" +
			"the rejoin is recorded in the history. Maintenance mode holds it.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("rejoin takes one argument, the node to rejoin; got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return a.runRejoin(cmd.Context(), f, args[0]) },
	}
	f.bind(cmd, false)
	return cmd
}

func (a *app) runRejoin(ctx context.Context, f pauseFlags, node string) error {
	if err := f.check(); err != nil {
		return err
	}
	if strings.TrimSpace(node) == "" {
		return usageErrorf("the node to rejoin is empty")
	}
	clients, err := a.clientsIn(ctx, "")
	if err != nil {
		return err
	}
	if _, err := readRecord(ctx, clients, f.cluster, f.table); err != nil {
		return err
	}
	if _, err := store.New(clients.DynamoDB, f.table).RequestRejoin(ctx, f.cluster, node, f.by, a.now()); err != nil {
		return fmt.Errorf("cluster %q: %w", f.cluster, err)
	}
	if a.jsonOutput() {
		return writeJSON(a.stdout, map[string]any{"cluster": f.cluster, "rejoinRequested": node})
	}
	fmt.Fprintf(a.stdout, "cluster %s: rejoin of %s requested; its agent rewinds it and starts it as the standby (switchyard history shows the rejoin)\n", f.cluster, node)
	return nil
}
