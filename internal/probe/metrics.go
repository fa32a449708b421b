package probe

import (
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/internal/pgnode"
)

// Metric and dimension names the probe publishes. Alarms and the Lambdas'
// heartbeat checks must use exactly these.
const (
	// MetricHeartbeat is 1 while PostgreSQL answers, 0 once it is declared
	// unhealthy (after local recovery gave up). No value is published while
	// a failure is being confirmed or locally recovered.
	MetricHeartbeat = "Heartbeat"
	// MetricPrimaryLSN is the primary's pg_current_wal_lsn() in bytes.
	MetricPrimaryLSN = "PrimaryLSN"
	// MetricReplayLagBytes is a standby's WAL known but not yet replayed.
	MetricReplayLagBytes = "ReplayLagBytes"

	DimCluster = "Cluster"
	DimNode    = "Node"
	DimRole    = "Role"
)

// Limits of PutMetricData (CloudWatch API reference).
const (
	maxDatumsPerCall  = 1000 // "no more than 1000 different metrics" per request
	maxValuesPerDatum = 150  // unique values in one Values array
)

// Sample is one measurement before aggregation.
type Sample struct {
	Metric     string
	Unit       types.StandardUnit
	Dimensions []types.Dimension
	Value      float64
	At         time.Time
	// Urgent asks for a flush within UrgentDelay instead of at the next
	// FlushInterval: a value that says something is wrong (a heartbeat
	// of 0, an unreachable primary, commits waiting) must reach the alarms
	// watching it while their period is still open.
	Urgent bool
}

// samplesFor turns one health verdict into the samples to publish.
// role is what the node may publish itself as (RoleUnknown if never, or
// while the agent does not let it publish as primary).
//
// Custom metrics are billed per series and month, so each value goes
// under the dimensions something reads it by, and no more:
//
//   - a primary publishes Heartbeat under {Cluster, Node} (Assess reads the
//     old primary's) and {Cluster, Role=primary} (the heartbeat alarm), and
//     PrimaryLSN under {Cluster, Node} (Assess, when no lease bounds it);
//   - a standby publishes ReplayLagBytes under {Cluster, Role=standby} (the
//     replication-lag alarm; its absence is the standby-heartbeat alarm);
//   - a node declared unhealthy publishes Heartbeat 0 under {Cluster,
//     Node} and its role, urgently, whatever its role.
func samplesFor(cluster, node string, at time.Time, hb heartbeat, role pgnode.Role, st *pgnode.Status) []Sample {
	byNode := dims(DimCluster, cluster, DimNode, node)
	var byRole []types.Dimension
	if role == pgnode.RolePrimary || role == pgnode.RoleStandby {
		byRole = dims(DimCluster, cluster, DimRole, role.String())
	}
	var out []Sample
	add := func(metric string, unit types.StandardUnit, v float64, urgent bool, sets ...[]types.Dimension) {
		for _, d := range sets {
			if d != nil {
				out = append(out, Sample{Metric: metric, Unit: unit, Dimensions: d, Value: v, At: at, Urgent: urgent})
			}
		}
	}
	if hb == heartbeatUnhealthy {
		add(MetricHeartbeat, types.StandardUnitNone, 0, true, byNode, byRole)
		return out
	}
	if hb != heartbeatHealthy || st == nil {
		return out
	}
	switch {
	case role == pgnode.RolePrimary && st.Role() == pgnode.RolePrimary:
		add(MetricHeartbeat, types.StandardUnitNone, 1, false, byNode, byRole)
		add(MetricPrimaryLSN, types.StandardUnitBytes, float64(st.CurrentLSN), false, byNode)
	case st.Role() == pgnode.RoleStandby:
		add(MetricReplayLagBytes, types.StandardUnitBytes, float64(st.ReplayLagBytes()), false, byRole)
	}
	return out
}

func dims(kv ...string) []types.Dimension {
	out := make([]types.Dimension, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Dimension{Name: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

// aggregate folds samples into high-resolution datums: samples of the same
// metric, unit and dimensions within one bucket become one datum whose
// Values/Counts list each distinct value and how often it occurred,
// timestamped at the bucket's start. At most 150 distinct values go into
// one datum; more start another datum for the same bucket.
func aggregate(samples []Sample, bucket time.Duration) []types.MetricDatum {
	if bucket < time.Second {
		bucket = time.Second
	}
	type key struct {
		metric, unit, dims string
		at                 int64
	}
	type agg struct {
		s      Sample
		at     time.Time
		values []float64
		counts []float64
	}
	groups := map[key]*agg{}
	var order []key
	for _, s := range samples {
		at := s.At.Truncate(bucket)
		k := key{s.Metric, string(s.Unit), dimsKey(s.Dimensions), at.UnixNano()}
		g := groups[k]
		if g == nil {
			g = &agg{s: s, at: at}
			groups[k] = g
			order = append(order, k)
		}
		i := indexOf(g.values, s.Value)
		if i < 0 {
			g.values = append(g.values, s.Value)
			g.counts = append(g.counts, 1)
		} else {
			g.counts[i]++
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if a.at != b.at {
			return a.at < b.at
		}
		if a.metric != b.metric {
			return a.metric < b.metric
		}
		return a.dims < b.dims
	})
	var out []types.MetricDatum
	for _, k := range order {
		g := groups[k]
		for start := 0; start < len(g.values); start += maxValuesPerDatum {
			end := min(start+maxValuesPerDatum, len(g.values))
			out = append(out, types.MetricDatum{
				MetricName:        aws.String(g.s.Metric),
				Unit:              g.s.Unit,
				Dimensions:        g.s.Dimensions,
				Timestamp:         aws.Time(g.at),
				Values:            append([]float64(nil), g.values[start:end]...),
				Counts:            append([]float64(nil), g.counts[start:end]...),
				StorageResolution: aws.Int32(1),
			})
		}
	}
	return out
}

func dimsKey(d []types.Dimension) string {
	var b strings.Builder
	for _, x := range d {
		b.WriteString(aws.ToString(x.Name))
		b.WriteByte('=')
		b.WriteString(aws.ToString(x.Value))
		b.WriteByte(';')
	}
	return b.String()
}

func indexOf(vs []float64, v float64) int {
	for i, x := range vs {
		if x == v {
			return i
		}
	}
	return -1
}
