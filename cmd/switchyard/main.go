// Command switchyard is the operator's command line for Switchyard: start
// and follow failovers and switchovers, pause and resume automatic
// failover, read the cluster record and its history. It links only the AWS
// SDK clients and what the commands need: the local stack, the ASL
// interpreter, the PostgreSQL harness and the template evaluator are in
// cmd/switchyard-dev (TestOperatorBinaryLeavesOutTheLocalStack). The
// commands live in internal/cli; this file only connects them to the
// process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchyard/switchyard/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Options{Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
