package localaws

import (
	"math"
	"time"
)

type bucketDef struct {
	Burst     int
	PerSecond float64
}

// Names of the token buckets the services draw from.
const (
	BucketEC2Mutating    = "ec2-mutating"
	BucketEC2NonMutating = "ec2-non-mutating"
	BucketRoute53        = "route53"
	BucketCloudWatch     = "cloudwatch"
	BucketStepFunctions  = "states"
	BucketDynamoDB       = "dynamodb"
	BucketSecrets        = "secretsmanager"
	BucketSNS            = "sns-publish"
)

// DefaultBuckets are AWS's documented bucket sizes and refill rates (EC2
// request token buckets for unmanaged accounts; Route 53's 5 requests per
// second per account is modelled with some burst). Buckets not listed are
// not throttled unless SetBucket defines them.
//
// BucketSNS is SNS's Publish quota, which AWS sets per account and region
// ("Amazon Simple Notification Service endpoints and quotas", AWS General
// Reference): 30,000 requests per second in us-east-1, lower quotas in the
// other regions. The emulator has one bucket for every region and takes
// the us-east-1 figure, with a second's worth of burst; SetBucket models a
// smaller region. SNS's other actions are not throttled here.
var DefaultBuckets = map[string]bucketDef{
	BucketEC2Mutating:    {Burst: 50, PerSecond: 5},
	BucketEC2NonMutating: {Burst: 100, PerSecond: 20},
	BucketRoute53:        {Burst: 50, PerSecond: 10},
	BucketCloudWatch:     {Burst: 500, PerSecond: 150},
	BucketStepFunctions:  {Burst: 800, PerSecond: 100},
	BucketDynamoDB:       {Burst: 1000, PerSecond: 500},
	BucketSecrets:        {Burst: 500, PerSecond: 100},
	BucketSNS:            {Burst: 30000, PerSecond: 30000},
}

type tokenBucket struct {
	def    bucketDef
	tokens float64
	last   time.Time
}

func newTokenBucket(def bucketDef, now time.Time) *tokenBucket {
	return &tokenBucket{def: def, tokens: float64(def.Burst), last: now}
}

func (b *tokenBucket) take(now time.Time) bool {
	elapsed := now.Sub(b.last).Seconds()
	if elapsed > 0 {
		b.tokens = math.Min(float64(b.def.Burst), b.tokens+elapsed*b.def.PerSecond)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
