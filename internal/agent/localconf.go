package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// autoConf is the file ALTER SYSTEM writes, and where pg_rewind
// --write-recovery-conf and pg_basebackup -R append the standby's
// primary_conninfo (and primary_slot_name).
const autoConf = "postgresql.auto.conf"

// recoveryKeys are the settings those tools write for the new standby.
var recoveryKeys = []string{"primary_conninfo", "primary_slot_name"}

// localConfig is this node's own configuration files, saved before
// pg_rewind or pg_basebackup copies the source's over them: both copy
// every file of the source's data directory, so a node whose
// postgresql.conf (or a file it includes) holds its own settings —
// listen_addresses with its own IP, its port, its pg_hba.conf — would
// otherwise come back configured as the other node. Patroni does the
// same with its backed-up configuration files.
type localConfig map[string][]byte

// saveLocalConfig reads the regular *.conf files at the top of dir.
func saveLocalConfig(dir string) (localConfig, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("saving this node's configuration files: %w", err)
	}
	saved := localConfig{}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".conf") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("saving this node's configuration file %s: %w", e.Name(), err)
		}
		saved[e.Name()] = b
	}
	return saved, nil
}

// restore writes the saved files back into dir after the tool ran. The
// saved postgresql.auto.conf keeps what the tool wrote for the standby
// (recoveryKeys), in place of any such lines of its own.
func (c localConfig) restore(dir string) error {
	for name, data := range c {
		path := filepath.Join(dir, name)
		if name == autoConf {
			written, err := os.ReadFile(path)
			if err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("restoring this node's %s: %w", name, err)
			}
			data = mergeRecoverySettings(data, written)
		}
		if err := writeLikeDir(path, string(data)); err != nil {
			return fmt.Errorf("restoring this node's configuration file %s: %w", name, err)
		}
	}
	return nil
}

// mergeRecoverySettings is saved without its recoveryKeys lines, followed
// by the last line of each recovery key that written holds.
func mergeRecoverySettings(saved, written []byte) []byte {
	var out []string
	for _, line := range strings.SplitAfter(string(saved), "\n") {
		if line != "" && recoveryKey(line) == "" {
			out = append(out, line)
		}
	}
	last := map[string]string{}
	for _, line := range strings.Split(string(written), "\n") {
		if k := recoveryKey(line); k != "" {
			last[k] = line
		}
	}
	if n := len(out); n > 0 && !strings.HasSuffix(out[n-1], "\n") {
		out[n-1] += "\n"
	}
	for _, k := range recoveryKeys {
		if line, ok := last[k]; ok {
			out = append(out, line+"\n")
		}
	}
	return []byte(strings.Join(out, ""))
}

// recoveryKey is the recovery setting a configuration line sets, or "".
func recoveryKey(line string) string {
	name, _, ok := strings.Cut(strings.TrimSpace(line), "=")
	if !ok {
		return ""
	}
	name = strings.TrimSpace(name)
	for _, k := range recoveryKeys {
		if name == k {
			return k
		}
	}
	return ""
}
