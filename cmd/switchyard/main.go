// Command switchyard is the operator's command line for Switchyard: start and
// follow failovers, read the cluster record and its history, validate the
// deployable artefacts and run the local AWS emulator. The commands live in
// internal/cli; this file only connects them to the process.
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
