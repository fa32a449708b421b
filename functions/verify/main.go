// Command verify is the verify step of the failover state machine, as a Lambda
// function. The logic is in internal/failover.
package main

import (
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/lambdamain"
)

func main() {
	lambdamain.Start("verify", func(d *failover.Deps) any { return (&failover.VerifyStep{Deps: d}).Handle })
}
