package probe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/switchyard/switchyard/internal/cluster"
)

func parse(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	s := DefaultSettings()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	s.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSettingsPrecedence(t *testing.T) {
	file := writeFile(t, "probe.json", `{
		"cluster": "from-file", "node": "node1", "interval": "3s", "flushInterval": "7s",
		"restartMax": 5, "imds": false, "restartCommand": "systemctl restart postgresql"}`)
	fs := parse(t, "--config-file", file, "--interval", "250ms")
	s, err := LoadSettings(fs, env(map[string]string{
		"SWITCHYARD_FLUSH_INTERVAL": "2s",
		"SWITCHYARD_INTERVAL":       "9s", // loses to the flag
		"SWITCHYARD_NAMESPACE":      "Custom",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Cluster != "from-file" || s.Node != "node1" || s.RestartMax != 5 || s.IMDS ||
		s.Interval != 250*time.Millisecond || s.FlushInterval != 2*time.Second || s.Namespace != "Custom" ||
		s.CheckTimeout != DefaultSettings().CheckTimeout {
		t.Fatalf("merged settings %+v", s)
	}
	cfg, err := s.Config(Identity{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.RestartCommand, " ") != "/bin/sh -c systemctl restart postgresql" ||
		cfg.Recovery.MaxRestarts != 5 || cfg.Publish.FlushInterval != 2*time.Second {
		t.Fatalf("config %+v", cfg)
	}
}

func TestSettingsConfigFileFromEnv(t *testing.T) {
	file := writeFile(t, "probe.json", `{"cluster": "c1", "node": "n1"}`)
	s, err := LoadSettings(parse(t), env(map[string]string{"SWITCHYARD_CONFIG_FILE": file}))
	if err != nil || s.Cluster != "c1" || s.ConfigFile != file {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestSettingsErrors(t *testing.T) {
	for name, c := range map[string]struct {
		file, want string
		env        map[string]string
		args       []string
	}{
		"unknown key":     {file: `{"clustr": "x"}`, want: `unknown setting "clustr"`},
		"bad duration":    {file: `{"interval": "soon"}`, want: `"interval"`},
		"object value":    {file: `{"cluster": {"a": 1}}`, want: "must be a string"},
		"not json":        {file: `cluster=x`, want: "config file"},
		"bad env":         {env: map[string]string{"SWITCHYARD_RESTART_MAX": "many"}, want: "SWITCHYARD_RESTART_MAX"},
		"missing file":    {args: []string{"--config-file", "/nonexistent/probe.json"}, want: "reading config file"},
		"config-file key": {file: `{"configFile": "other.json"}`, want: `unknown setting "configFile"`},
	} {
		t.Run(name, func(t *testing.T) {
			args := c.args
			if c.file != "" {
				args = append(args, "--config-file", writeFile(t, "p.json", c.file))
			}
			_, err := LoadSettings(parse(t, args...), env(c.env))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	valid := DefaultSettings()
	valid.Cluster, valid.Node = "prod", "node1"
	if _, err := valid.Config(Identity{}); err != nil {
		t.Fatalf("defaults with cluster and node: %v", err)
	}
	for name, c := range map[string]struct {
		mut  func(*Settings)
		want string
	}{
		"no cluster":       {func(s *Settings) { s.Cluster = "" }, "cluster name is empty"},
		"no node":          {func(s *Settings) { s.Node = "" }, "node name is empty"},
		"zero interval":    {func(s *Settings) { s.Interval = 0 }, "interval must be positive"},
		"negative flush":   {func(s *Settings) { s.FlushInterval = -time.Second }, "flush interval must be positive"},
		"AWS namespace":    {func(s *Settings) { s.Namespace = "AWS/RDS" }, "namespace"},
		"fraction bucket":  {func(s *Settings) { s.Bucket = 1500 * time.Millisecond }, "whole number of seconds"},
		"threshold 0":      {func(s *Settings) { s.FailureThreshold = 0 }, "failure threshold"},
		"no buffer":        {func(s *Settings) { s.MaxBuffered = 0 }, "max buffered"},
		"restart window 0": {func(s *Settings) { s.RestartCommand = "true"; s.RestartWindow = 0 }, "restart window"},
		"no dsn":           {func(s *Settings) { s.DSN = "" }, "dsn is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			s := valid
			c.mut(&s)
			_, err := s.Config(Identity{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

const clusterJSON = `{
  "name": "prod", "table": "switchyard",
  "nodes": [
    {"name": "pg-a", "instanceId": "i-aaa", "networkInterfaceId": "eni-a", "privateIp": "10.0.1.10", "postgresAddr": "10.0.1.10:5432"},
    {"name": "pg-b", "instanceId": "i-bbb", "networkInterfaceId": "eni-b", "privateIp": "10.0.2.10", "postgresAddr": "10.0.2.10:5432"}
  ],
  "routing": {"elasticIp": {"allocationId": "eipalloc-1"}, "clientEndpoint": "db.example:5432"},
  "detection": {"namespace": "SwitchyardProd"},
  "database": {"secretId": "pg"}
}`

func TestConfigFromClusterConfig(t *testing.T) {
	s := DefaultSettings()
	s.ClusterConfig = writeFile(t, "cluster.json", clusterJSON)
	cfg, err := s.Config(Identity{InstanceID: "i-bbb"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cluster != "prod" || cfg.Node != "pg-b" || cfg.Publish.Namespace != "SwitchyardProd" {
		t.Fatalf("config %+v", cfg)
	}
	if _, err := s.Config(Identity{InstanceID: "i-other"}); err == nil || !strings.Contains(err.Error(), "not a node") {
		t.Fatalf("unknown instance: %v", err)
	}
	s.Cluster = "staging"
	if _, err := s.Config(Identity{InstanceID: "i-bbb"}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("cluster mismatch: %v", err)
	}
}

func TestNames(t *testing.T) {
	if EnvName("flush-interval") != "SWITCHYARD_FLUSH_INTERVAL" || JSONKey("flush-interval") != "flushInterval" ||
		JSONKey("dsn") != "dsn" || JSONKey("imds-endpoint") != "imdsEndpoint" {
		t.Fatal("name mapping changed")
	}
	// Every flag has help text naming its environment variable.
	s := DefaultSettings()
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	s.BindFlags(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		if !strings.Contains(f.Usage, "$"+EnvName(f.Name)) || len(f.Usage) < 20 {
			t.Errorf("flag --%s: usage %q", f.Name, f.Usage)
		}
	})
}

// The agents' default flush interval and the cluster's default heartbeat
// staleness are two ends of one timing: a healthy primary's newest
// heartbeat in CloudWatch is up to one flush interval old (plus the call),
// and Assess must not call that stale.
func TestDefaultFlushIntervalFitsTheStaleLimit(t *testing.T) {
	stale := time.Duration(cluster.DefaultHeartbeatStaleSeconds) * time.Second
	if margin := stale - DefaultSettings().FlushInterval; margin < 30*time.Second {
		t.Fatalf("flush interval %s leaves %s before the %s stale limit, want at least 30s", DefaultSettings().FlushInterval, margin, stale)
	}
}

func TestCheckFlushFitsStale(t *testing.T) {
	for _, c := range []struct {
		flush, stale time.Duration
		ok           bool
	}{
		{DefaultFlushInterval, 90 * time.Second, true},
		{DefaultFlushInterval, 60 * time.Second, true},
		{DefaultFlushInterval, 59 * time.Second, false},
		{5 * time.Second, 15 * time.Second, true},
		{5 * time.Second, 14 * time.Second, false},
	} {
		if err := CheckFlushFitsStale(c.flush, c.stale); (err == nil) != c.ok {
			t.Errorf("flush %s, stale %s: err = %v, want ok %t", c.flush, c.stale, err, c.ok)
		}
	}
}
