// Package imdssim is an emulated EC2 instance metadata service, IMDSv2
// only, as an instance configured with HttpTokens=required serves it: a
// PUT /latest/api/token with a TTL header returns a session token, and
// every GET under /latest/meta-data/ needs that token (401 without it).
// The local stack gives each node its own, so the node probe identifies
// itself exactly as it does on EC2.
package imdssim
