// Command promote is the promote step of the failover state machine, as a Lambda
// function. The logic is in internal/failover.
package main

import (
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/lambdamain"
)

func main() {
	lambdamain.Start("promote", func(d *failover.Deps) any { return (&failover.PromoteStep{Deps: d}).Handle })
}
