package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/probe"
)

// result is one run's line in the JSONL output.
type result struct {
	Time      string        `json:"time"`
	System    string        `json:"system"` // "switchyard"
	Agent     string        `json:"agent"`  // "nodeprobe"
	DurationS float64       `json:"duration_s"`
	WarmupS   float64       `json:"warmup_s"`
	Settings  agentSettings `json:"settings"`
	// AgentBuild is the command that built the agent; AgentTextBytes its
	// read-only loaded sections (`size`'s text), nearly all resident.
	AgentBuild     string `json:"agent_build"`
	AgentTextBytes uint64 `json:"agent_text_bytes"`
	// RuntimeEnv is the Go runtime settings passed to the agents (GOGC,
	// GOMEMLIMIT, GOMAXPROCS); absent when none.
	RuntimeEnv map[string]string `json:"runtime_env,omitempty"`
	Host       hostInfo          `json:"host"`
	Nodes      []nodeResult      `json:"nodes"`
	// CallsPerHour is by operation ("dynamodb:GetItem"), both agents
	// together: the cluster's.
	CallsPerHour      map[string]float64 `json:"calls_per_hour"`
	CallsPerHourTotal float64            `json:"calls_per_hour_total"`
	// ErrorsPerHour is by "operation ErrorCode"; absent when none.
	ErrorsPerHour map[string]float64 `json:"errors_per_hour,omitempty"`
	DatumsPerHour float64            `json:"put_metric_data_datums_per_hour"`
	ValuesPerHour float64            `json:"put_metric_data_values_per_hour"`
	// Metrics is the distinct CloudWatch series the cluster publishes.
	Metrics int      `json:"cloudwatch_metrics"`
	Notes   []string `json:"notes,omitempty"`
}

// agentSettings are the settings that set an agent's pace, as it ran.
type agentSettings struct {
	IntervalS      float64 `json:"interval_s"`       // agent loop and health check (--interval)
	CheckTimeoutS  float64 `json:"check_timeout_s"`  // --check-timeout
	FlushIntervalS float64 `json:"flush_interval_s"` // one PutMetricData per flush (--flush-interval)
	AggregateS     float64 `json:"aggregate_s"`      // --aggregate
	LeaseS         float64 `json:"lease_s"`          // cluster lease.seconds
	LeaseRenewS    float64 `json:"lease_renew_s"`    // cluster lease.renewSeconds
	FastPathCheckS float64 `json:"fast_path_check_s"`
	Replication    string  `json:"replication"` // mode/policy
	Watchdog       string  `json:"watchdog"`
	LogLevel       string  `json:"log_level"`
}

// hostInfo says what else the machine was doing.
type hostInfo struct {
	Cores        int    `json:"cores"`
	LoadavgStart string `json:"loadavg_start"`
	LoadavgEnd   string `json:"loadavg_end"`
	// BusyPct is the whole machine's busy share over the window (100 = all
	// cores busy): the agents, PostgreSQL, the emulator and anyone else.
	BusyPct    float64 `json:"busy_pct"`
	Go         string  `json:"go"`
	PostgreSQL string  `json:"postgresql"`
}

// nodeResult is one agent process.
type nodeResult struct {
	Node        string  `json:"node"`
	Role        string  `json:"role"`
	Caller      string  `json:"caller"`
	Samples     int     `json:"samples"`
	RSSMBMedian float64 `json:"rss_mb_median"` // MiB
	RSSMBMax    float64 `json:"rss_mb_max"`
	// RSSMBPeak is VmHWM, the peak since the process started (start-up
	// included), or the largest sampled VmRSS when the kernel's lazily
	// updated high-water mark lags it.
	RSSMBPeak    float64 `json:"rss_mb_peak"`
	CPUPctOfCore float64 `json:"cpu_pct_of_core"`
	CPUPctMax1s  float64 `json:"cpu_pct_of_core_max_1s"`
	// ChildrenCPUPct is what the agent's waited-for children used
	// (runuser and pg_ctl status every loop), apart from its own.
	ChildrenCPUPct    float64            `json:"children_cpu_pct_of_core"`
	Threads           int                `json:"threads"`
	CallsPerHour      map[string]float64 `json:"calls_per_hour"`
	CallsPerHourTotal float64            `json:"calls_per_hour_total"`
	DatumsPerHour     float64            `json:"put_metric_data_datums_per_hour"`
	Metrics           int                `json:"cloudwatch_metrics"`
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// buildResult turns a measurement into the reported figures.
func buildResult(m measurement, b *bench, hz int64, o options, pgVersion string) (result, error) {
	window := m.End.Sub(m.Start)
	d := probe.DefaultSettings()
	r := result{
		Time: m.Start.UTC().Format(time.RFC3339), System: "switchyard", Agent: "nodeprobe",
		DurationS: round(window.Seconds(), 1), WarmupS: o.Warmup.Seconds(),
		Settings: agentSettings{
			IntervalS: d.Interval.Seconds(), CheckTimeoutS: d.CheckTimeout.Seconds(),
			FlushIntervalS: d.FlushInterval.Seconds(), AggregateS: d.Bucket.Seconds(),
			LeaseS: b.cfg.LeaseDuration().Seconds(), LeaseRenewS: b.cfg.RenewInterval().Seconds(),
			FastPathCheckS: b.cfg.FastPathInterval().Seconds(),
			Replication:    b.cfg.Replication.Mode + "/" + b.cfg.Replication.SyncPolicy,
			Watchdog:       "none", LogLevel: d.LogLevel,
		},
		RuntimeEnv: runtimeEnv(),
		Host: hostInfo{Cores: runtime.NumCPU(), LoadavgStart: m.LoadStart, LoadavgEnd: m.LoadEnd,
			BusyPct: round(busyPercent(m.CPUStart, m.CPUEnd), 1), Go: runtime.Version(), PostgreSQL: pgVersion},
	}
	var callers []string
	for _, p := range b.agents {
		callers = append(callers, p.Caller)
	}
	cc := countCalls(m.Calls, callers...)
	if all := countCalls(m.Calls); all.Total != cc.Total {
		r.Notes = append(r.Notes, fmt.Sprintf("%d calls by other callers in the window were not counted", all.Total-cc.Total))
	}
	if m.CallLogMayBeTruncated {
		r.Notes = append(r.Notes, fmt.Sprintf("the call log held %d calls: past half of its cap (%d) it may have dropped the oldest; measure a shorter run",
			len(m.Calls), localaws.MaxLoggedCalls))
	}
	if m.DatumErr != nil {
		r.Notes = append(r.Notes, "some PutMetricData bodies could not be read: "+m.DatumErr.Error())
	}
	r.CallsPerHour = perHourMap(cc.ByOp, window)
	r.CallsPerHourTotal = perHour(float64(cc.Total), window)
	if len(cc.Errors) > 0 {
		r.ErrorsPerHour = perHourMap(cc.Errors, window)
	}
	allMetrics := map[string]bool{}
	var datums, values int
	for _, p := range b.agents {
		u, err := summarise(m.Samples[p.Node], hz)
		if err != nil {
			return r, fmt.Errorf("nodeprobe of %s: %w", p.Node, err)
		}
		dc := m.Datums[p.Caller]
		datums, values = datums+dc.Datums, values+dc.Values
		for k := range dc.Metrics {
			allMetrics[k] = true
		}
		total := 0
		for _, n := range cc.ByCaller[p.Caller] {
			total += n
		}
		r.Nodes = append(r.Nodes, nodeResult{
			Node: p.Node, Role: p.Role, Caller: p.Caller, Samples: u.Samples,
			RSSMBMedian: round(u.RSSMiBMedian, 2), RSSMBMax: round(u.RSSMiBMax, 2), RSSMBPeak: round(u.PeakMiB, 2),
			CPUPctOfCore: round(u.CPUPct, 2), CPUPctMax1s: round(u.CPUPctMax1s, 1), ChildrenCPUPct: round(u.ChildrenCPUPct, 2),
			Threads:      u.Threads,
			CallsPerHour: perHourMap(cc.ByCaller[p.Caller], window), CallsPerHourTotal: perHour(float64(total), window),
			DatumsPerHour: perHour(float64(dc.Datums), window), Metrics: len(dc.Metrics),
		})
	}
	r.DatumsPerHour, r.ValuesPerHour = perHour(float64(datums), window), perHour(float64(values), window)
	r.Metrics = len(allMetrics)
	return r, nil
}

// printReport writes the human-readable tables.
func printReport(w io.Writer, r result) {
	s, h := r.Settings, r.Host
	fmt.Fprintf(w, "\nnodeprobe overhead: %d agents (separate processes), %.0f s measured after %.0f s steady warm-up\n", len(r.Nodes), r.DurationS, r.WarmupS)
	fmt.Fprintf(w, "pair: PostgreSQL %s, replication %s; AWS: the in-repo emulator over HTTP (real SDK)\n", h.PostgreSQL, s.Replication)
	fmt.Fprintf(w, "agent settings (defaults): interval %gs, check-timeout %gs, flush-interval %gs, aggregate %gs;\n", s.IntervalS, s.CheckTimeoutS, s.FlushIntervalS, s.AggregateS)
	fmt.Fprintf(w, "  lease %gs renewed every %gs; fast-path check every %gs; log level %s; watchdog %s (no /dev/watchdog here)\n",
		s.LeaseS, s.LeaseRenewS, s.FastPathCheckS, s.LogLevel, s.Watchdog)
	fmt.Fprintf(w, "agent build: %s (text %d bytes)\n", r.AgentBuild, r.AgentTextBytes)
	if len(r.RuntimeEnv) > 0 {
		fmt.Fprintf(w, "Go runtime settings passed to the agents: %v\n", r.RuntimeEnv)
	}
	fmt.Fprintf(w, "host: %d cores, shared with the emulator, PostgreSQL and whatever else runs; load average %s -> %s; machine %.0f%% busy over the run\n",
		h.Cores, h.LoadavgStart, h.LoadavgEnd, h.BusyPct)

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\trole\tRSS MiB median\tmax\tpeak\tCPU % of a core\tbusiest 1 s\tchildren CPU %\tthreads\t")
	for _, n := range r.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.1f\t%.2f\t%.0f\t%.2f\t%d\t\n", n.Node, n.Role, n.RSSMBMedian, n.RSSMBMax, n.RSSMBPeak,
			n.CPUPctOfCore, n.CPUPctMax1s, n.ChildrenCPUPct, n.Threads)
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nAWS API calls per hour (scaled from %.0f s):\n", r.DurationS)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "operation\tcluster"
	for _, n := range r.Nodes {
		header += "\t" + n.Node
	}
	fmt.Fprintln(tw, header+"\t")
	for _, op := range sortedKeys(r.CallsPerHour) {
		line := fmt.Sprintf("%s\t%.0f", op, r.CallsPerHour[op])
		for _, n := range r.Nodes {
			line += fmt.Sprintf("\t%.0f", n.CallsPerHour[op])
		}
		fmt.Fprintln(tw, line+"\t")
	}
	line := fmt.Sprintf("total\t%.0f", r.CallsPerHourTotal)
	for _, n := range r.Nodes {
		line += fmt.Sprintf("\t%.0f", n.CallsPerHourTotal)
	}
	fmt.Fprintln(tw, line+"\t")
	_ = tw.Flush()
	fmt.Fprintf(w, "PutMetricData: %.0f datums/h, %.0f values/h, %d distinct metrics\n", r.DatumsPerHour, r.ValuesPerHour, r.Metrics)
	if len(r.ErrorsPerHour) == 0 {
		fmt.Fprintln(w, "errors: none")
	}
	for _, k := range sortedKeys(r.ErrorsPerHour) {
		fmt.Fprintf(w, "errors: %s %.0f/h\n", k, r.ErrorsPerHour[k])
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

// appendResult appends r as one JSON line to path.
func appendResult(path string, r result) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding the result: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
