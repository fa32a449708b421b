package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/internal/store"
)

type historyFlags struct {
	cluster string
	table   string
	limit   int
	json    bool
}

func newHistoryCommand(a *app) *cobra.Command {
	var f historyFlags
	cmd := &cobra.Command{
		Use:   "history --cluster NAME [--table TABLE] [--limit N]",
		Short: "List the cluster's failovers and switchovers, newest first",
		Long: "history prints the history entries of the cluster record, newest first: when the\n" +
			"attempt finished, the action, the old and the intended new primary, the outcome,\n" +
			"the steps that completed and the reason. The record keeps the last " + fmt.Sprint(store.MaxHistory) + " primary\n" +
			"changes and failed or aborted attempts, and apart from them the last " + fmt.Sprint(store.MaxRoutine) + " routine\n" +
			"outcomes (refused, not-needed), so routine outcomes never push out a failover. A routine\n" +
			"outcome repeating the previous one is kept as one entry: OUTCOME shows how often\n" +
			"(\"refused ×120\"), EPOCH the first and the last epoch, REASON the first time and the\n" +
			"latest reason.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.json {
				a.output = OutputJSON
			}
			return a.runHistory(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.cluster, "cluster", "", "cluster name (required)")
	fl.StringVar(&f.table, "table", "", "DynamoDB table of the cluster record (default: switchyard-CLUSTER, as the template names it)")
	fl.IntVar(&f.limit, "limit", 0, "show at most N entries (default: all)")
	fl.BoolVar(&f.json, "json", false, "print JSON (same as --output json)")
	return cmd
}

func (a *app) runHistory(ctx context.Context, f historyFlags) error {
	if err := checkCluster(f.cluster); err != nil {
		return err
	}
	f.table = clusterTable(f.table, f.cluster)
	if err := checkTableName(f.table); err != nil {
		return err
	}
	if f.limit < 0 {
		return usageErrorf("--limit must not be negative, got %d", f.limit)
	}
	clients, err := a.clients(ctx)
	if err != nil {
		return err
	}
	rec, err := readRecord(ctx, clients, f.cluster, f.table)
	if err != nil {
		return err
	}
	entries := slices.Clone(rec.History)
	slices.Reverse(entries) // the record keeps them oldest first
	if f.limit > 0 && len(entries) > f.limit {
		entries = entries[:f.limit]
	}
	if a.jsonOutput() {
		if entries == nil {
			entries = []store.HistoryEntry{}
		}
		return writeJSON(a.stdout, entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(a.stdout, "cluster %s has no history yet\n", rec.Cluster)
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEPOCH\tACTION\tTRIGGER\tFROM→TO\tOUTCOME\tSTEPS\tREASON")
	for _, e := range entries {
		at := e.FinishedAt
		if at.IsZero() {
			at = e.StartedAt
		}
		steps := strings.Join(e.TimedSteps(), ",")
		if steps == "" {
			steps = "-"
		}
		reason := orDash(e.Reason)
		epoch, outcome := fmt.Sprint(e.Epoch), e.Outcome
		if n := e.Occurrences(); n > 1 {
			epoch = fmt.Sprintf("%d-%d", e.FirstEpoch, e.Epoch)
			outcome = fmt.Sprintf("%s ×%d", e.Outcome, n)
			reason = "since " + formatTime(e.Since()) + ", latest: " + reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s→%s\t%s\t%s\t%s\n", formatTime(at), epoch, orDash(e.Action), clipText(oneLine(orDash(e.Trigger)), 60),
			orDash(e.From), orDash(e.To), outcome, steps, clipText(oneLine(reason), 100))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a table row on one line and its columns apart.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s)
}
