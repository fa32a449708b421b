package awsapi

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// MaxExecutionName is Step Functions' limit on an execution name.
const MaxExecutionName = 80

// ExecutionName turns s into a valid Step Functions execution name: every
// character outside [A-Za-z0-9_-] becomes '-', and a name longer than the
// limit is cut and ends with a hash of s, so that distinct inputs keep
// distinct names and the same input always gives the same name.
func ExecutionName(s string) string {
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, s)
	if len(clean) <= MaxExecutionName {
		return clean
	}
	sum := sha256.Sum256([]byte(s))
	return clean[:MaxExecutionName-9] + "-" + hex.EncodeToString(sum[:4])
}
