// Command switchyard-dev is the development tool: the operator's commands
// of cmd/switchyard plus demo (a real failover on the local stack), local
// aws (the AWS emulator as a process) and validate (the offline checks of
// the deployable artefacts). Those link the emulator, the ASL interpreter,
// the PostgreSQL harness and the template evaluator; the commands live in
// internal/devcli. `make demo` and `make validate` run it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/devcli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Options{Stdout: os.Stdout, Stderr: os.Stderr, Extensions: devcli.Commands})
	stop()
	os.Exit(code)
}
