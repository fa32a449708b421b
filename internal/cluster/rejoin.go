package cluster

// Rejoin configures the automatic rejoin of a former primary: once another
// node is the recorded primary, serving under a valid lease, the former
// primary's agent rewinds its data directory with pg_rewind against it,
// keeps a copy of the WAL it discards, and starts it as a streaming
// standby. When pg_rewind cannot rewind it (no wal_log_hints or checksums,
// the WAL since the divergence gone, a damaged target) the agent re-clones
// it from the new primary with pg_basebackup instead, keeping the old data
// directory beside the new one.
type Rejoin struct {
	// Disabled leaves a former primary stopped (fenced) until an operator
	// rejoins it (`switchyard rejoin`, or by hand).
	Disabled bool `json:"disabled,omitempty"`
	// KeepDir is where the agent keeps the WAL a rewind discards (a
	// directory per rejoin); "" means "switchyard-kept" beside the data
	// directory.
	KeepDir string `json:"keepDir,omitempty"`
	// NoReclone turns off the re-clone that follows a failed pg_rewind:
	// the former primary then stays stopped and fenced, and the agent
	// retries the rewind every minute, until an operator rejoins it by
	// hand. The re-clone copies the whole database from the new primary
	// into a sibling of the data directory, so its filesystem needs room
	// for a second copy: the replaced data directory is renamed to
	// "<data directory>.replaced-<UTC time>" and kept, never deleted.
	NoReclone bool `json:"noReclone,omitempty"`
	// NoSnapshot turns off the EBS snapshots (every volume of the node's
	// instance, tagged switchyard:cluster and switchyard:node) the agent
	// requests once before a rejoin rewinds or re-clones its data
	// directory. They are never deleted by Switchyard; each costs the
	// changed blocks at EBS snapshot prices until you delete it.
	NoSnapshot bool `json:"noSnapshot,omitempty"`
}

// AutoRejoin reports whether former primaries rejoin by themselves.
func (c *Config) AutoRejoin() bool { return !c.Rejoin.Disabled }

// Reclone reports whether a rejoin whose pg_rewind failed re-clones the
// former primary with pg_basebackup (keeping its old data directory).
func (c *Config) Reclone() bool { return !c.Rejoin.NoReclone }
