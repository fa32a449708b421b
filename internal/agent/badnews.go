package agent

// onlyBadNews decides when a warning metric is published. CloudWatch
// bills a custom metric for every hour it receives data, so the agent's
// warning metrics (PrimaryUnreachableSeconds, SyncCommitsWaiting,
// LeaseSecondsLeft) are published only while their value is bad, and once
// more, with the good value, when it stops being bad: the alarms on them treat missing
// data as not breaching, and the dashboard sees each episode end. A
// healthy cluster therefore pays nothing for them. The publisher sends
// these samples within a second (probe.Sample.Urgent).
type onlyBadNews struct{ bad bool }

// publish reports whether a value that is bad (or not) is to be published.
func (n *onlyBadNews) publish(bad bool) bool {
	wasBad := n.bad
	n.bad = bad
	return bad || wasBad
}
