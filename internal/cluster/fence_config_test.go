package cluster_test

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/cluster"
)

// configWithFence is a valid cluster config whose fence section is fence
// (a JSON object).
func configWithFence(fence string) string {
	return `{"name":"orders","table":"switchyard",
	"nodes":[
	  {"name":"node1","instanceId":"i-0aaa1111","networkInterfaceId":"eni-0aaa1111","privateIp":"10.0.1.10","postgresAddr":"10.0.1.10:5432"},
	  {"name":"node2","instanceId":"i-0bbb2222","networkInterfaceId":"eni-0bbb2222","privateIp":"10.0.2.10","postgresAddr":"10.0.2.10:5432"}],
	"routing":{"elasticIp":{"allocationId":"eipalloc-0123"},"clientEndpoint":"203.0.113.10:5432"},
	"database":{"secretId":"arn:aws:secretsmanager:eu-west-1:111122223333:secret:pg"},
	"fence":` + fence + `}`
}

func TestFenceDefaults(t *testing.T) {
	c, err := cluster.Parse([]byte(configWithFence(`{}`)))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.Fence.Mode != cluster.FenceStop || c.Fence.StopTimeoutSeconds != 120 ||
		c.Fence.ConfirmObservations != cluster.DefaultFenceConfirmObservations {
		t.Fatalf("fence defaults %+v", c.Fence)
	}
}

func TestFenceValidation(t *testing.T) {
	cases := []struct {
		fence   string
		mention string // "" means valid
	}{
		{`{"mode":"stop","confirmObservations":5}`, ""},
		{`{"mode":"isolate-and-stop","isolationSecurityGroupId":"sg-0iso"}`, ""},
		{`{"mode":"isolate","isolationSecurityGroupId":"sg-0iso"}`, "do not end connections already open"},
		{`{"mode":"isolate-and-stop"}`, "isolationSecurityGroupId"},
		{`{"mode":"pray"}`, `not one of "stop", "isolate-and-stop"`},
		{`{"confirmObservations":1}`, "a single read is never proof"},
		{`{"confirmObservations":-2}`, "confirmObservations"},
	}
	for _, c := range cases {
		_, err := cluster.Parse([]byte(configWithFence(c.fence)))
		switch {
		case c.mention == "" && err != nil:
			t.Errorf("%s: %v", c.fence, err)
		case c.mention != "" && (err == nil || !strings.Contains(err.Error(), c.mention)):
			t.Errorf("%s: err = %v, want it to mention %q", c.fence, err, c.mention)
		}
	}
}
