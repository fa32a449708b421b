package patroni

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Settings are Patroni's detection timings (bootstrap.dcs), in seconds.
type Settings struct {
	// Name is "default" or "tuned"; the system is "patroni-" + Name.
	Name string
	// TTL is the leader key's time to live: a leader that stops renewing
	// it is replaced once it expires.
	TTL int
	// LoopWait is how long each node sleeps between HA cycles.
	LoopWait int
	// RetryTimeout bounds DCS and PostgreSQL operations before a leader
	// demotes itself.
	RetryTimeout int
}

// Default is Patroni's out-of-the-box timing.
var Default = Settings{Name: "default", TTL: 30, LoopWait: 10, RetryTimeout: 10}

// Tuned matches Switchyard's detection as closely as Patroni stays stable:
// a 10 s leader key renewed every 2 s. retry_timeout is 4, not 5, to keep
// Patroni's documented rule loop_wait + 2*retry_timeout <= ttl.
var Tuned = Settings{Name: "tuned", TTL: 10, LoopWait: 2, RetryTimeout: 4}

// SettingsByName returns Default or Tuned.
func SettingsByName(name string) (Settings, error) {
	switch name {
	case Default.Name:
		return Default, nil
	case Tuned.Name:
		return Tuned, nil
	}
	return Settings{}, fmt.Errorf("patroni settings %q: want %q or %q", name, Default.Name, Tuned.Name)
}

// System is the name the comparison reports these settings under.
func (s Settings) System() string { return "patroni-" + s.Name }

// Path describes the detection, in the place of bench/recovery's
// detection path.
func (s Settings) Path() string {
	return fmt.Sprintf("ttl=%d,loop_wait=%d,retry_timeout=%d", s.TTL, s.LoopWait, s.RetryTimeout)
}

// Validate checks the timings against Patroni's documented rule.
func (s Settings) Validate() error {
	if s.TTL <= 0 || s.LoopWait <= 0 || s.RetryTimeout <= 0 {
		return fmt.Errorf("patroni settings %s: ttl, loop_wait and retry_timeout must be positive", s.Path())
	}
	if s.LoopWait+2*s.RetryTimeout > s.TTL {
		return fmt.Errorf("patroni settings %s: loop_wait + 2*retry_timeout must not exceed ttl", s.Path())
	}
	return nil
}

// Names used in the cluster.
const (
	// Scope is the Patroni cluster name.
	Scope = "bench"
	// Namespace is the etcd key prefix.
	Namespace = "/switchyard-bench/"
	// Superuser is trusted on loopback, as in internal/pgharness.
	Superuser = "postgres"
	// AppUser and AppPassword are the client's role (SCRAM), as in
	// internal/pgharness.
	AppUser     = "app"
	AppPassword = "app-password"
)

// pgParameters are the PostgreSQL settings of both nodes: those of
// internal/pgharness's pair (which Switchyard's local stack runs), so that
// both systems run the same PostgreSQL. See internal/pgharness's package
// documentation for why fsync=off does not change what is measured.
var pgParameters = map[string]any{
	"wal_level":                    "replica",
	"hot_standby":                  "on",
	"max_wal_senders":              10,
	"max_replication_slots":        10,
	"wal_keep_size":                "128MB",
	"wal_log_hints":                "on",
	"full_page_writes":             "on",
	"synchronous_commit":           "on",
	"fsync":                        "off",
	"max_connections":              40,
	"shared_buffers":               "16MB",
	"wal_sender_timeout":           "5s",
	"wal_receiver_timeout":         "5s",
	"wal_receiver_status_interval": "1s",
	"wal_retrieve_retry_interval":  "500ms",
	"logging_collector":            "off",
	"log_line_prefix":              "%m [%p] %q%u@%d ",
}

// hba is pgharness's pg_hba.conf: the superuser trusted on loopback (also
// for replication and pg_rewind), everyone else with a SCRAM password.
var hba = []string{
	"local all all trust",
	"local replication all trust",
	"host all " + Superuser + " 127.0.0.1/32 trust",
	"host replication " + Superuser + " 127.0.0.1/32 trust",
	"host all all 127.0.0.1/32 scram-sha-256",
}

// Ports are the loopback ports of one cluster.
type Ports struct {
	EtcdClient, EtcdPeer int
	HAProxy              int
	PG, REST             [2]int
}

// nodeNames are the two members.
var nodeNames = [2]string{"node1", "node2"}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// etcdArgs is the command line of the single-member etcd. Patroni 3.0's
// "etcd" DCS speaks etcd's v2 API, which etcd 3.4 serves only with
// --enable-v2.
func etcdArgs(dataDir string, p Ports) []string {
	client, peer := "http://"+addr(p.EtcdClient), "http://"+addr(p.EtcdPeer)
	return []string{
		"--name", "bench",
		"--data-dir", dataDir,
		"--listen-client-urls", client,
		"--advertise-client-urls", client,
		"--listen-peer-urls", peer,
		"--initial-advertise-peer-urls", peer,
		"--initial-cluster", "bench=" + peer,
		"--initial-cluster-state", "new",
		"--initial-cluster-token", "switchyard-bench",
		"--enable-v2=true",
		"--log-level", "warn",
	}
}

// patroniConfig renders the YAML configuration of member i. dir is the
// member's own directory (data directory, sockets, pgpass inside).
func patroniConfig(s Settings, p Ports, i int, dir, binDir string) ([]byte, error) {
	cfg := map[string]any{
		"scope":     Scope,
		"namespace": Namespace,
		"name":      nodeNames[i],
		"restapi": map[string]any{
			"listen":          addr(p.REST[i]),
			"connect_address": addr(p.REST[i]),
		},
		"etcd": map[string]any{
			"host":     addr(p.EtcdClient),
			"protocol": "http",
		},
		"bootstrap": map[string]any{
			"dcs": map[string]any{
				"ttl":                     s.TTL,
				"loop_wait":               s.LoopWait,
				"retry_timeout":           s.RetryTimeout,
				"maximum_lag_on_failover": 1048576,
				"synchronous_mode":        true,
				"postgresql": map[string]any{
					"use_pg_rewind": true,
					"use_slots":     true,
					"parameters":    pgParameters,
				},
			},
			"initdb": []any{
				map[string]any{"encoding": "UTF8"},
				map[string]any{"locale": "C"},
			},
		},
		"postgresql": map[string]any{
			"listen":          addr(p.PG[i]),
			"connect_address": addr(p.PG[i]),
			"data_dir":        filepath.Join(dir, "data"),
			"bin_dir":         binDir,
			"pgpass":          filepath.Join(dir, "pgpass"),
			"pg_hba":          hba,
			"authentication": map[string]any{
				"superuser":   map[string]any{"username": Superuser},
				"replication": map[string]any{"username": Superuser},
				"rewind":      map[string]any{"username": Superuser},
			},
			"parameters": map[string]any{
				"unix_socket_directories": dir,
			},
		},
		"watchdog": map[string]any{"mode": "off"},
		"tags": map[string]any{
			"nofailover":    false,
			"noloadbalance": false,
			"clonefrom":     false,
			"nosync":        false,
		},
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("rendering %s's patroni.yml: %w", nodeNames[i], err)
	}
	return out, nil
}

// haproxyConfig renders HAProxy's configuration: one TCP listener for the
// clients, sending them to the member whose Patroni REST API answers 200 on
// GET /primary, checked every second, as Patroni's documentation
// recommends (sessions to a member marked down are shut down).
func haproxyConfig(p Ports) string {
	var b strings.Builder
	b.WriteString(`# Written by bench/patroni.
global
    maxconn 200

defaults
    mode tcp
    retries 2
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 1s

listen primary
    bind ` + addr(p.HAProxy) + `
    option httpchk GET /primary
    http-check expect status 200
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
`)
	for i, name := range nodeNames {
		fmt.Fprintf(&b, "    server %s %s maxconn 100 check port %d\n", name, addr(p.PG[i]), p.REST[i])
	}
	return b.String()
}
