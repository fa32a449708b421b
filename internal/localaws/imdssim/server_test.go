package imdssim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

func TestIMDSv2WithTheSDKClient(t *testing.T) {
	srv := httptest.NewServer(New(Instance{InstanceID: "i-0abc", AvailabilityZone: "us-east-1a", PrivateIP: "10.0.2.10"}))
	defer srv.Close()
	c := imds.New(imds.Options{Endpoint: srv.URL})
	for path, want := range map[string]string{"instance-id": "i-0abc", "placement/availability-zone": "us-east-1a", "local-ipv4": "10.0.2.10"} {
		out, err := c.GetMetadata(context.Background(), &imds.GetMetadataInput{Path: path})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got, _ := io.ReadAll(out.Content)
		if string(got) != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
}

func TestIMDSv1IsRefused(t *testing.T) {
	srv := httptest.NewServer(New(Instance{InstanceID: "i-0abc"}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/latest/meta-data/instance-id")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET without a token: %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/latest/api/token", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("token request without a TTL: %d, want 400", resp.StatusCode)
	}
}
