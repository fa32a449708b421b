package cluster_test

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/cluster"
)

// The re-clone after a failed pg_rewind is on unless rejoin.noReclone
// says otherwise, independently of rejoin.disabled.
func TestRejoinRecloneSetting(t *testing.T) {
	cases := []struct {
		rejoin        string // "" leaves the section out
		auto, reclone bool
	}{
		{"", true, true},
		{`{}`, true, true},
		{`{"noReclone":true}`, true, false},
		{`{"disabled":true}`, false, true},
		{`{"disabled":true,"noReclone":true,"keepDir":"/var/lib/postgresql/kept"}`, false, false},
	}
	for _, c := range cases {
		doc := configWithFence(`{}`)
		if c.rejoin != "" {
			doc = strings.TrimSuffix(doc, "}") + `,"rejoin":` + c.rejoin + `}`
		}
		cfg, err := cluster.Parse([]byte(doc))
		if err != nil {
			t.Fatalf("rejoin %s: %v", c.rejoin, err)
		}
		if cfg.AutoRejoin() != c.auto || cfg.Reclone() != c.reclone {
			t.Errorf("rejoin %s: auto %t, reclone %t; want %t, %t", c.rejoin, cfg.AutoRejoin(), cfg.Reclone(), c.auto, c.reclone)
		}
	}
	if _, err := cluster.Parse([]byte(strings.TrimSuffix(configWithFence(`{}`), "}") + `,"rejoin":{"noReclone":"yes"}}`)); err == nil {
		t.Error("rejoin.noReclone as a string was accepted")
	}
}
