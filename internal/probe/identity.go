package probe

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// Identity is where the probe runs.
type Identity struct {
	InstanceID       string `json:"instanceId,omitempty"`
	AvailabilityZone string `json:"availabilityZone,omitempty"`
	PrivateIP        string `json:"privateIp,omitempty"`
}

// complete reports whether every field is known.
func (id Identity) complete() bool {
	return id.InstanceID != "" && id.AvailabilityZone != "" && id.PrivateIP != ""
}

// MetadataAPI is the part of the EC2 instance metadata client the probe
// uses; *imds.Client satisfies it.
type MetadataAPI interface {
	GetMetadata(ctx context.Context, params *imds.GetMetadataInput, optFns ...func(*imds.Options)) (*imds.GetMetadataOutput, error)
}

var _ MetadataAPI = (*imds.Client)(nil)

// NewMetadataClient returns an IMDSv2-only client: it fetches a session
// token (PUT /latest/api/token) and never falls back to the tokenless
// IMDSv1 flow. endpoint overrides the default http://169.254.169.254 when
// not empty (tests, or the IPv6 endpoint).
func NewMetadataClient(endpoint string) *imds.Client {
	return imds.New(imds.Options{
		Endpoint:          endpoint,
		EnableFallback:    aws.FalseTernary,
		ClientEnableState: imds.ClientEnabled,
	})
}

// ResolveIdentity completes explicit with what the instance metadata
// service says: fields already set are kept and not fetched. md may be nil
// when metadata is disabled; then explicit is returned as is. timeout
// bounds each metadata request.
func ResolveIdentity(ctx context.Context, explicit Identity, md MetadataAPI, timeout time.Duration) (Identity, error) {
	id := explicit
	if md == nil || id.complete() {
		return id, nil
	}
	for _, f := range []struct {
		path string
		dst  *string
	}{
		{"instance-id", &id.InstanceID},
		{"placement/availability-zone", &id.AvailabilityZone},
		{"local-ipv4", &id.PrivateIP},
	} {
		if *f.dst != "" {
			continue
		}
		v, err := getMetadata(ctx, md, f.path, timeout)
		if err != nil {
			return explicit, err
		}
		*f.dst = v
	}
	return id, nil
}

func getMetadata(ctx context.Context, md MetadataAPI, path string, timeout time.Duration) (string, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	out, err := md.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
	if err != nil {
		return "", fmt.Errorf("reading instance metadata %q (IMDSv2): %w", path, err)
	}
	defer out.Content.Close()
	b, err := io.ReadAll(io.LimitReader(out.Content, 4096))
	if err != nil {
		return "", fmt.Errorf("reading instance metadata %q: %w", path, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("instance metadata %q is empty", path)
	}
	return v, nil
}
