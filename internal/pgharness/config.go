package pgharness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// nodeConfFile holds the settings that differ per node (port, sockets,
// synchronous standbys). postgresql.conf includes it last, and pg_basebackup
// copies it, so a new standby's copy is rewritten before it starts.
const nodeConfFile = "switchyard-node.conf"

// baseSettings are written to postgresql.conf of every node. See the package
// documentation for why fsync=off does not weaken what the tests check.
var baseSettings = [][2]string{
	{"listen_addresses", "'127.0.0.1'"},
	{"wal_level", "replica"},
	{"hot_standby", "on"},
	{"max_wal_senders", "10"},
	{"max_replication_slots", "10"},
	{"wal_keep_size", "'128MB'"},
	{"wal_log_hints", "on"},
	{"full_page_writes", "on"},
	{"synchronous_commit", "on"},
	{"fsync", "off"},
	{"max_connections", "40"},
	{"shared_buffers", "'16MB'"},
	{"wal_sender_timeout", "'5s'"},
	{"wal_receiver_timeout", "'5s'"},
	{"wal_receiver_status_interval", "'1s'"},
	{"wal_retrieve_retry_interval", "'500ms'"},
	{"logging_collector", "off"},
	{"log_line_prefix", "'%m [%p] %q%u@%d '"},
}

// hbaConf trusts the superuser on loopback and asks everyone else for a
// SCRAM password.
const hbaConf = `# Written by Switchyard's pgharness.
local   all          all                        trust
local   replication  all                        trust
host    all          ` + Superuser + `   127.0.0.1/32   trust
host    replication  ` + Superuser + `   127.0.0.1/32   trust
host    all          all        127.0.0.1/32   scram-sha-256
`

// initdb creates the data directory and writes the harness configuration.
func (n *Node) initdb(ctx context.Context, extra map[string]string) error {
	cmd := n.env.command(ctx, n.Dir, "initdb",
		"-D", n.DataDir, "-U", Superuser, "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgharness: initdb %s: %w\n%s", n.Name, err, out)
	}
	var b strings.Builder
	b.WriteString("\n# Switchyard pgharness settings.\n")
	for _, kv := range baseSettings {
		fmt.Fprintf(&b, "%s = %s\n", kv[0], kv[1])
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, extra[k])
	}
	fmt.Fprintf(&b, "include_if_exists = '%s'\n", nodeConfFile)
	if err := appendFile(filepath.Join(n.DataDir, "postgresql.conf"), b.String()); err != nil {
		return fmt.Errorf("pgharness: configure %s: %w", n.Name, err)
	}
	if err := writeFileKeepOwner(filepath.Join(n.DataDir, "pg_hba.conf"), hbaConf); err != nil {
		return fmt.Errorf("pgharness: configure %s: %w", n.Name, err)
	}
	return n.writeNodeConf("")
}

// writeNodeConf writes the per-node settings. syncStandbys is the value of
// synchronous_standby_names ("" for none).
func (n *Node) writeNodeConf(syncStandbys string) error {
	content := fmt.Sprintf("# Per-node settings written by Switchyard's pgharness.\n"+
		"port = %d\nunix_socket_directories = %s\ncluster_name = %s\nsynchronous_standby_names = %s\n",
		n.Port, quoteConfValue(n.socketDir()), quoteConfValue(n.Name), quoteConfValue(syncStandbys))
	if err := writeFileKeepOwner(filepath.Join(n.DataDir, nodeConfFile), content); err != nil {
		return fmt.Errorf("pgharness: write %s config: %w", n.Name, err)
	}
	return nil
}

// setPrimaryConninfo replaces primary_conninfo in postgresql.auto.conf (where
// pg_basebackup -R wrote one) so that the standby connects to addr with its
// own name as application_name.
func (n *Node) setPrimaryConninfo(host, port string) error {
	path := filepath.Join(n.DataDir, "postgresql.auto.conf")
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("pgharness: read %s: %w", path, err)
	}
	var kept []string
	for _, line := range strings.Split(strings.TrimRight(string(old), "\n"), "\n") {
		key, _, _ := strings.Cut(strings.TrimSpace(line), "=")
		if strings.TrimSpace(key) == "primary_conninfo" {
			continue
		}
		kept = append(kept, line)
	}
	conninfo := fmt.Sprintf("host=%s port=%s user=%s application_name=%s connect_timeout=5",
		quoteConnValue(host), quoteConnValue(port), quoteConnValue(Superuser), quoteConnValue(n.Name))
	kept = append(kept, "primary_conninfo = "+quoteConfValue(conninfo))
	return writeFileKeepOwner(path, strings.Join(kept, "\n")+"\n")
}

// quoteConfValue quotes a postgresql.conf string value.
func quoteConfValue(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// writeFileKeepOwner rewrites an existing file in place (so it keeps its
// owner) or creates it; a created file is given to the file's directory owner.
func writeFileKeepOwner(path, content string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return chownLikeParent(path)
}

func appendFile(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// chownLikeParent gives path the owner of its directory when running as root
// (a file the harness creates in a data directory must belong to the server's
// account). As a normal user it does nothing.
func chownLikeParent(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	st, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return os.Chown(path, int(sys.Uid), int(sys.Gid))
}
