package route53sim_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// GetHostedZone describes a zone; a private zone lists the VPCs it is
// associated with (what validate checks against the client VPCs).
func TestGetHostedZoneListsPrivateZoneVPCs(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	priv, err := s.client.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String("/hostedzone/ZPRIVATE0000000002")})
	if err != nil {
		t.Fatal(err)
	}
	if !priv.HostedZone.Config.PrivateZone || len(priv.VPCs) != 1 || aws.ToString(priv.VPCs[0].VPCId) != "vpc-1" || priv.VPCs[0].VPCRegion != types.VPCRegionUsEast1 {
		t.Fatalf("private zone %+v, VPCs %+v", priv.HostedZone, priv.VPCs)
	}
	pub, err := s.client.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String("ZPUBLIC00000000001")})
	if err != nil || pub.HostedZone.Config.PrivateZone || len(pub.VPCs) != 0 {
		t.Fatalf("public zone %+v (%v)", pub, err)
	}
	_, err = s.client.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String("ZNOSUCHZONE")})
	var nf *types.NoSuchHostedZone
	if !errors.As(err, &nf) {
		t.Fatalf("unknown zone: %v, want NoSuchHostedZone", err)
	}
}
