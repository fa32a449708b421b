package cluster_test

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/cluster"
)

// The cluster name keys its items in the table ("<name>" and
// "<name>#history"): only the template's ClusterName pattern is accepted.
func TestClusterNameValidation(t *testing.T) {
	for name, ok := range map[string]bool{
		"orders": true, "pg-1": true, "0a": true, strings.Repeat("a", 40): true,
		"Orders": false, "pg#history": false, "-pg": false, "pg_1": false, strings.Repeat("a", 41): false,
	} {
		cfg := strings.Replace(configWithFence(`{}`), `"name":"orders"`, `"name":"`+name+`"`, 1)
		_, err := cluster.Parse([]byte(cfg))
		switch {
		case ok && err != nil:
			t.Errorf("%q: %v", name, err)
		case !ok && (err == nil || !strings.Contains(err.Error(), "name "+`"`+name+`"`)):
			t.Errorf("%q: err = %v, want the name refused and named", name, err)
		}
	}
}
