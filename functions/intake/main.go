// Command intake is the intake step of the failover state machine, as a Lambda
// function. The logic is in internal/failover.
package main

import (
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/lambdamain"
)

func main() {
	lambdamain.Start("intake", func(d *failover.Deps) any { return (&failover.Intake{Config: d.Config}).Handle })
}
