package samtemplate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The repository's deployable artefacts, relative to this package.
const (
	repoRoot     = "../.."
	realTemplate = repoRoot + "/template.yaml"
)

// scenario is one way to deploy the real template.
type scenario struct {
	name   string
	params map[string]string
}

// baseParams are the parameters without a Default, with routing left out.
func baseParams() map[string]string {
	return map[string]string{
		"ClusterName":            "orders",
		"Node1InstanceId":        "i-0aaa1111",
		"Node1EniId":             "eni-0aaa1111",
		"Node1PrivateIp":         "10.0.1.10",
		"Node1AvailabilityZone":  "eu-west-1a",
		"Node2InstanceId":        "i-0bbb2222",
		"Node2EniId":             "eni-0bbb2222",
		"Node2PrivateIp":         "10.0.2.10",
		"Node2AvailabilityZone":  "eu-west-1b",
		"DatabaseSecretArn":      "arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders-db-AbCdEf",
		"ClientEndpoint":         "10.1.0.10:5432",
		"LambdaSubnetIds":        "subnet-01,subnet-02",
		"LambdaSecurityGroupIds": "sg-0lambda",
	}
}

func with(base map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(base)+len(kv)/2)
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// scenarios are the routing and fencing combinations the template supports.
func scenarios() []scenario {
	overlay := []string{"OverlayCidr", "10.1.0.10/32", "OverlayVpcIds", "vpc-0a, vpc-0b"}
	eip := []string{"ElasticIpAllocationId", "eipalloc-0123"}
	dns := []string{"HostedZoneId", "Z0123456789", "RecordName", "pg.db.example.internal"}
	all := append(append(append([]string{}, overlay...), eip...), dns...)
	timing := append([]string{"LeaseSeconds", "20", "LeaseRenewSeconds", "5", "LeaseClockMarginMs", "2500",
		"LeaseWatchdogSeconds", "12", "ReplicationMode", "async", "SyncPolicy", "strict", "DegradeAfterSeconds", "30",
		"MetricNamespace", "Acme/Switchyard", "MaxLagBytes", "4096"}, eip...)
	return []scenario{
		{"overlay only", with(baseParams(), overlay...)},
		{"elastic IP only", with(baseParams(), eip...)},
		{"DNS only", with(baseParams(), dns...)},
		{"all three", with(baseParams(), all...)},
		{"async, strict, long lease, own namespace", with(baseParams(), timing...)},
		{"isolate-and-stop, 60 s heartbeat", with(baseParams(), append([]string{"FenceMode", "isolate-and-stop",
			"IsolationSecurityGroupId", "sg-0isolate", "HeartbeatPeriodSeconds", "60", "HeartbeatEvaluationPeriods", "2"}, dns...)...)},
	}
}

func loadReal(t *testing.T, params map[string]string) *App {
	t.Helper()
	app, err := Load(realTemplate, params)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return app
}

// variant copies testdata/minimal.yaml and its definition into a temporary
// directory with each old→new replacement applied (to the template, or to
// the definition when old starts with "asl:"), and returns the template path.
func variant(t *testing.T, edits ...string) string {
	t.Helper()
	tmpl := readTestdata(t, "minimal.yaml")
	asl := readTestdata(t, "minimal.asl.json")
	for i := 0; i+1 < len(edits); i += 2 {
		old, repl := edits[i], edits[i+1]
		target := &tmpl
		if o, ok := strings.CutPrefix(old, "asl:"); ok {
			old, target = o, &asl
		}
		if !strings.Contains(*target, old) {
			t.Fatalf("variant: %q is not in the file", old)
		}
		*target = strings.Replace(*target, old, repl, 1)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(path, []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "minimal.asl.json"), []byte(asl), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// errorsText joins errors for messages and substring checks.
func errorsText(errs []error) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error())
		b.WriteString("\n")
	}
	return b.String()
}
