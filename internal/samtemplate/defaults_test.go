package samtemplate

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"

	"github.com/switchyard/switchyard/internal/cluster"
)

// paramInt is the evaluated value of a Number parameter of app.
func paramInt(t *testing.T, app *App, name string) int {
	t.Helper()
	v, ok := app.Parameters[name]
	if !ok {
		t.Fatalf("the template has no parameter %s", name)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("parameter %s = %q: %v", name, v, err)
	}
	return n
}

// The template's defaults of the safety settings are the cluster package's
// constants: one source, so a deployment with default parameters runs
// exactly what docs/safety.md argues for.
func TestRealTemplateDefaultsAreTheClusterDefaults(t *testing.T) {
	app := loadReal(t, scenarios()[0].params) // only required parameters and routing set
	ints := []struct {
		param string
		want  int
	}{
		{"LeaseSeconds", cluster.DefaultLeaseSeconds},
		{"LeaseRenewSeconds", cluster.DefaultRenewSeconds},
		{"LeaseClockMarginMs", cluster.DefaultClockMarginMs},
		// 0 lets cluster derive the watchdog from the lease, as the Go
		// default does (there is no separate constant).
		{"LeaseWatchdogSeconds", 0},
		{"DegradeAfterSeconds", cluster.DefaultDegradeAfterSeconds},
		{"MaxLagBytes", cluster.DefaultAsyncMaxLagBytes},
	}
	for _, c := range ints {
		if got := paramInt(t, app, c.param); got != c.want {
			t.Errorf("template default %s = %d, cluster default %d", c.param, got, c.want)
		}
	}
	strs := map[string]string{"ReplicationMode": cluster.ReplicationSync, "SyncPolicy": cluster.SyncAvailable}
	for param, want := range strs {
		if got := app.Parameters[param]; got != want {
			t.Errorf("template default %s = %q, cluster default %q", param, got, want)
		}
	}

	// And the configuration the Lambdas get with those defaults is the one
	// cluster would make up on its own from an empty lease and replication.
	cfg, err := cluster.Parse([]byte(app.Functions["LeaseFunction"].Environment[cluster.EnvConfig]))
	if err != nil {
		t.Fatal(err)
	}
	want := *cfg
	want.Lease, want.Replication = cluster.PrimaryLease{}, cluster.Replication{}
	raw, err := json.Marshal(&want)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := cluster.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Lease != bare.Lease || cfg.Replication != bare.Replication {
		t.Errorf("template defaults give lease %+v replication %+v; cluster defaults are %+v %+v",
			cfg.Lease, cfg.Replication, bare.Lease, bare.Replication)
	}
}

// The allowed values of the enumerated settings are the ones cluster
// accepts, no more and no fewer.
func TestRealTemplateAllowedValuesAreTheClusterValues(t *testing.T) {
	for param, values := range map[string][]string{
		"ReplicationMode": {cluster.ReplicationSync, cluster.ReplicationAsync},
		"SyncPolicy":      {cluster.SyncStrict, cluster.SyncAvailable},
		"FenceMode":       {cluster.FenceStop, cluster.FenceIsolateAndStop},
	} {
		for _, v := range values {
			p := with(scenarios()[0].params, param, v, "IsolationSecurityGroupId", "sg-0isolate")
			if errs := Validate(realTemplate, p); len(errs) > 0 {
				t.Errorf("%s=%s: %s", param, v, errorsText(errs))
			}
		}
		if _, err := Load(realTemplate, with(scenarios()[0].params, param, "bogus")); err == nil {
			t.Errorf("%s=bogus loads; want it refused by AllowedValues", param)
		}
	}
	if _, err := Load(realTemplate, with(scenarios()[0].params, "FenceMode", "isolate")); err == nil {
		t.Error("FenceMode=isolate loads; isolation alone does not confirm a fence and must not be offered")
	}
}

// OverlayRouteTableIds reaches the configuration as
// routing.overlayIp.routeTableIds; empty leaves discovery by destination.
func TestRealTemplateOverlayRouteTableIds(t *testing.T) {
	for _, c := range []struct {
		ids  string
		want []string
	}{{"", nil}, {"rtb-0aaa1111,rtb-0bbb2222", []string{"rtb-0aaa1111", "rtb-0bbb2222"}}} {
		app := loadReal(t, with(scenarios()[0].params, "OverlayRouteTableIds", c.ids))
		cfg, err := cluster.Parse([]byte(app.Functions["LeaseFunction"].Environment[cluster.EnvConfig]))
		if err != nil {
			t.Fatalf("OverlayRouteTableIds %q: %v", c.ids, err)
		}
		if got := cfg.Routing.OverlayIP.RouteTableIDs; !slices.Equal(got, c.want) {
			t.Errorf("OverlayRouteTableIds %q: routeTableIds %v, want %v", c.ids, got, c.want)
		}
	}
}
