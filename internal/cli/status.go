package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/store"
)

type statusFlags struct {
	cluster         string
	table           string
	stateMachineARN string
	json            bool
}

func newStatusCommand(a *app) *cobra.Command {
	var f statusFlags
	cmd := &cobra.Command{
		Use:   "status --cluster NAME --table TABLE [--state-machine-arn ARN]",
		Short: "Show the cluster record: primary, epoch, lease and running failovers",
		Long: "status reads the cluster record from DynamoDB (a strongly consistent read) and shows\n" +
			"the primary, the epoch (fencing token) and the failover lease. With\n" +
			"--state-machine-arn it also lists the state machine's RUNNING executions.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.json {
				a.output = OutputJSON
			}
			return a.runStatus(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cluster, "cluster", "", "cluster name (required)")
	fl.StringVar(&f.table, "table", "", "DynamoDB table of the cluster record (required)")
	fl.StringVar(&f.stateMachineARN, "state-machine-arn", "", "also list the running executions of this failover state machine")
	fl.BoolVar(&f.json, "json", false, "print JSON (same as --output json)")
	return cmd
}

// statusOutput is the JSON output of status.
type statusOutput struct {
	Cluster   string       `json:"cluster"`
	Table     string       `json:"table"`
	Primary   string       `json:"primary"`
	Epoch     int64        `json:"epoch"`
	Lease     *leaseStatus `json:"lease"` // null when no failover holds it
	UpdatedAt time.Time    `json:"updatedAt"`
	Version   int64        `json:"version"`
	// StateMachineARN and RunningExecutions are set with --state-machine-arn.
	StateMachineARN   string             `json:"stateMachineArn,omitempty"`
	RunningExecutions []runningExecution `json:"runningExecutions,omitempty"`
}

type leaseStatus struct {
	Holder  string    `json:"holder"`
	Expires time.Time `json:"expires"`
	// Active is false when the lease has expired: the next failover may
	// take it over.
	Active bool `json:"active"`
}

type runningExecution struct {
	Name         string    `json:"name"`
	ExecutionARN string    `json:"executionArn"`
	StartDate    time.Time `json:"startDate"`
}

func (a *app) runStatus(ctx context.Context, f statusFlags) error {
	if err := checkCluster(f.cluster); err != nil {
		return err
	}
	if err := checkTableName(f.table); err != nil {
		return err
	}
	region := ""
	if f.stateMachineARN != "" {
		var err error
		if region, err = checkStateMachineARN(f.stateMachineARN); err != nil {
			return err
		}
	}
	clients, err := a.clientsIn(ctx, region)
	if err != nil {
		return err
	}
	rec, err := readRecord(ctx, clients, f.cluster, f.table)
	if err != nil {
		return err
	}
	now := a.now()
	out := statusOutput{Cluster: rec.Cluster, Table: f.table, Primary: rec.Primary, Epoch: rec.Epoch,
		UpdatedAt: rec.UpdatedAt, Version: rec.Version}
	if rec.Lock != nil {
		out.Lease = &leaseStatus{Holder: rec.Lock.Holder, Expires: rec.Lock.Expires, Active: rec.LockActive(now)}
	}
	if f.stateMachineARN != "" {
		out.StateMachineARN = f.stateMachineARN
		if out.RunningExecutions, err = listRunning(ctx, clients.SFN, f.stateMachineARN); err != nil {
			return err
		}
	}
	if a.jsonOutput() {
		if out.StateMachineARN != "" && out.RunningExecutions == nil {
			out.RunningExecutions = []runningExecution{}
		}
		return writeJSON(a.stdout, out)
	}
	return a.printStatus(out, now)
}

// readRecord reads the cluster record, naming the cluster and table in
// every error.
func readRecord(ctx context.Context, clients *awsapi.Clients, cluster, table string) (store.Record, error) {
	rec, err := store.New(clients.DynamoDB, table).Get(ctx, cluster)
	var noRecord *store.ErrNoRecord
	switch {
	case errors.As(err, &noRecord):
		return store.Record{}, fmt.Errorf("cluster %q has no record in table %s (is the cluster name right? the record is created when the stack is deployed)", cluster, table)
	case awsapi.IsNotFound(err):
		return store.Record{}, fmt.Errorf("table %s does not exist at %s: %w", table, endpointOf(clients.Config), err)
	case err != nil:
		return store.Record{}, fmt.Errorf("reading the record of cluster %q from table %s at %s: %w", cluster, table, endpointOf(clients.Config), err)
	}
	return rec, nil
}

// listRunning lists the RUNNING executions of a state machine, every page.
func listRunning(ctx context.Context, client awsapi.SFNAPI, stateMachineARN string) ([]runningExecution, error) {
	var running []runningExecution
	pages := sfn.NewListExecutionsPaginator(client, &sfn.ListExecutionsInput{
		StateMachineArn: aws.String(stateMachineARN), StatusFilter: types.ExecutionStatusRunning})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the running executions of %s: %w", stateMachineARN, err)
		}
		for _, e := range page.Executions {
			running = append(running, runningExecution{Name: aws.ToString(e.Name),
				ExecutionARN: aws.ToString(e.ExecutionArn), StartDate: aws.ToTime(e.StartDate)})
		}
	}
	return running, nil
}

func (a *app) printStatus(out statusOutput, now time.Time) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "cluster\t%s\n", out.Cluster)
	fmt.Fprintf(tw, "primary\t%s\n", out.Primary)
	fmt.Fprintf(tw, "epoch\t%d\n", out.Epoch)
	switch l := out.Lease; {
	case l == nil:
		fmt.Fprintf(tw, "lease\tfree (no failover in flight)\n")
	case l.Active:
		fmt.Fprintf(tw, "lease\theld by %s until %s (%s)\n", l.Holder, formatTime(l.Expires), relative(l.Expires, now))
	default:
		fmt.Fprintf(tw, "lease\texpired: held by %s until %s (%s); the next failover takes it over\n", l.Holder, formatTime(l.Expires), relative(l.Expires, now))
	}
	fmt.Fprintf(tw, "updated\t%s (version %d)\n", formatTime(out.UpdatedAt), out.Version)
	if err := tw.Flush(); err != nil {
		return err
	}
	if out.StateMachineARN == "" {
		return nil
	}
	if len(out.RunningExecutions) == 0 {
		fmt.Fprintf(a.stdout, "running executions of %s: none\n", out.StateMachineARN)
		return nil
	}
	fmt.Fprintf(a.stdout, "running executions of %s:\n", out.StateMachineARN)
	tw = tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tSTARTED\tEXECUTION ARN")
	for _, e := range out.RunningExecutions {
		fmt.Fprintf(tw, "  %s\t%s (%s)\t%s\n", e.Name, formatTime(e.StartDate), relative(e.StartDate, now), e.ExecutionARN)
	}
	return tw.Flush()
}
