package cluster

// Rejoin configures the automatic rejoin of a former primary: once another
// node is the recorded primary, serving under a valid lease, the former
// primary's agent rewinds its data directory with pg_rewind against it,
// keeps a copy of the WAL it discards, and starts it as a streaming
// standby.
type Rejoin struct {
	// Disabled leaves a former primary stopped (fenced) until an operator
	// rejoins it (`switchyard rejoin`, or by hand).
	Disabled bool `json:"disabled,omitempty"`
	// KeepDir is where the agent keeps the WAL a rewind discards (a
	// directory per rejoin); "" means "switchyard-kept" beside the data
	// directory.
	KeepDir string `json:"keepDir,omitempty"`
}

// AutoRejoin reports whether former primaries rejoin by themselves.
func (c *Config) AutoRejoin() bool { return !c.Rejoin.Disabled }
