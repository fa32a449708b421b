package patroni

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func testPorts() Ports {
	return Ports{EtcdClient: 2001, EtcdPeer: 2002, HAProxy: 2003, PG: [2]int{2004, 2005}, REST: [2]int{2006, 2007}}
}

func TestSettings(t *testing.T) {
	for _, s := range []Settings{Default, Tuned} {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		got, err := SettingsByName(s.Name)
		if err != nil || got != s {
			t.Errorf("SettingsByName(%q) = %+v, %v", s.Name, got, err)
		}
	}
	if Default != (Settings{Name: "default", TTL: 30, LoopWait: 10, RetryTimeout: 10}) {
		t.Errorf("Default is not Patroni's default: %+v", Default)
	}
	if Tuned.System() != "patroni-tuned" || Tuned.Path() != "ttl=10,loop_wait=2,retry_timeout=4" {
		t.Errorf("Tuned names: %q %q", Tuned.System(), Tuned.Path())
	}
	if err := (Settings{Name: "x", TTL: 10, LoopWait: 2, RetryTimeout: 5}).Validate(); err == nil {
		t.Error("loop_wait + 2*retry_timeout > ttl was accepted")
	}
	if _, err := SettingsByName("fast"); err == nil {
		t.Error("unknown settings accepted")
	}
}

func TestPatroniConfig(t *testing.T) {
	out, err := patroniConfig(Tuned, testPorts(), 1, "/tmp/c/node2", "/usr/lib/postgresql/15/bin")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Scope   string `yaml:"scope"`
		Name    string `yaml:"name"`
		RestAPI struct {
			Listen string `yaml:"listen"`
		} `yaml:"restapi"`
		Etcd struct {
			Host string `yaml:"host"`
		} `yaml:"etcd"`
		Bootstrap struct {
			DCS struct {
				TTL             int  `yaml:"ttl"`
				LoopWait        int  `yaml:"loop_wait"`
				RetryTimeout    int  `yaml:"retry_timeout"`
				SynchronousMode bool `yaml:"synchronous_mode"`
				PostgreSQL      struct {
					UsePgRewind bool              `yaml:"use_pg_rewind"`
					Parameters  map[string]string `yaml:"parameters"`
				} `yaml:"postgresql"`
			} `yaml:"dcs"`
		} `yaml:"bootstrap"`
		PostgreSQL struct {
			Listen  string   `yaml:"listen"`
			DataDir string   `yaml:"data_dir"`
			BinDir  string   `yaml:"bin_dir"`
			PgHba   []string `yaml:"pg_hba"`
		} `yaml:"postgresql"`
	}
	if err := yaml.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dcs := cfg.Bootstrap.DCS
	checks := map[string]bool{
		"scope":            cfg.Scope == Scope,
		"name":             cfg.Name == "node2",
		"restapi.listen":   cfg.RestAPI.Listen == "127.0.0.1:2007",
		"etcd.host":        cfg.Etcd.Host == "127.0.0.1:2001",
		"timings":          dcs.TTL == 10 && dcs.LoopWait == 2 && dcs.RetryTimeout == 4,
		"synchronous_mode": dcs.SynchronousMode,
		"use_pg_rewind":    dcs.PostgreSQL.UsePgRewind,
		"wal_log_hints":    dcs.PostgreSQL.Parameters["wal_log_hints"] == "on",
		"listen":           cfg.PostgreSQL.Listen == "127.0.0.1:2005",
		"data_dir":         cfg.PostgreSQL.DataDir == "/tmp/c/node2/data",
		"bin_dir":          cfg.PostgreSQL.BinDir == "/usr/lib/postgresql/15/bin",
		"pg_hba":           len(cfg.PostgreSQL.PgHba) > 0 && strings.Contains(strings.Join(cfg.PostgreSQL.PgHba, "\n"), "scram-sha-256"),
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("%s wrong in:\n%s", what, out)
		}
	}
}

func TestHAProxyConfigChecksPatroniPrimary(t *testing.T) {
	cfg := haproxyConfig(testPorts())
	for _, want := range []string{
		"bind 127.0.0.1:2003",
		"option httpchk GET /primary",
		"http-check expect status 200",
		"inter 1s fall 2 rise 1 on-marked-down shutdown-sessions",
		"server node1 127.0.0.1:2004 maxconn 100 check port 2006",
		"server node2 127.0.0.1:2005 maxconn 100 check port 2007",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("haproxy.cfg lacks %q:\n%s", want, cfg)
		}
	}
}

func TestEtcdArgsEnableV2OnLoopback(t *testing.T) {
	args := strings.Join(etcdArgs("/d", testPorts()), " ")
	for _, want := range []string{"--enable-v2=true", "--listen-client-urls http://127.0.0.1:2001", "--listen-peer-urls http://127.0.0.1:2002", "--data-dir /d"} {
		if !strings.Contains(args, want) {
			t.Errorf("etcd args lack %q: %s", want, args)
		}
	}
}
