// Command lease is the lease step of the failover state machine, as a Lambda
// function. The logic is in internal/failover.
package main

import (
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/lambdamain"
)

func main() {
	lambdamain.Start("lease", func(d *failover.Deps) any { return (&failover.LeaseStep{Deps: d}).Handle })
}
