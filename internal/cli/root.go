package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"
)

// Exit codes of the switchyard process.
const (
	ExitOK              = 0
	ExitFailure         = 1 // the command failed: an AWS call, a check, a read
	ExitUsage           = 2 // bad flags or arguments; nothing was changed
	ExitExecutionFailed = 3 // failover --wait: the execution did not succeed
	ExitDegraded        = 4 // status: degraded, or a failover in progress
	ExitDown            = 5 // status: DOWN, or the record cannot tell
)

// Output formats of --output.
const (
	OutputText = "text"
	OutputJSON = "json"
)

// Options connect the commands to their process. The zero value uses the
// process's standard streams and clock.
type Options struct {
	Stdout io.Writer
	Stderr io.Writer
	// AWSConfig is applied when loading the AWS configuration, before the
	// --region and --endpoint-url flags (which therefore win). Tests use it
	// to hand in static credentials.
	AWSConfig []func(*config.LoadOptions) error
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Extensions add commands: the development tool (cmd/switchyard-dev)
	// adds demo, local and validate, which link the emulator, the PostgreSQL
	// harness and the template evaluator that the operator's binary
	// (cmd/switchyard) leaves out.
	Extensions []Extension
}

// Extension builds one more top-level command.
type Extension func(Env) *cobra.Command

// Env is what an extension's command uses of the command line it runs in.
type Env interface {
	Stdout() io.Writer
	Stderr() io.Writer
	// JSONOutput reports --output json.
	JSONOutput() bool
}

// UsageErrorf is a UsageError (exit code ExitUsage) for an extension.
func UsageErrorf(format string, args ...any) error { return usageErrorf(format, args...) }

// WriteJSON prints v as indented JSON, as every command's --output json.
func WriteJSON(w io.Writer, v any) error { return writeJSON(w, v) }

// CheckTableName checks a DynamoDB table name flag (--table).
func CheckTableName(name string) error { return checkTableName(name) }

// NoArgs is the argument check of commands without arguments.
func NoArgs(cmd *cobra.Command, args []string) error { return noArgs(cmd, args) }

// UsageError is bad input caught before anything was changed: a missing or
// malformed flag, a stray argument, an inconsistent combination.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitCode maps an error returned by Execute to the process exit code.
func ExitCode(err error) int {
	var ue *UsageError
	var fe *ExecutionFailedError
	var he *HealthError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &he):
		return he.code()
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &fe):
		return ExitExecutionFailed
	default:
		return ExitFailure
	}
}

// Run executes the command line args (without the program name), prints
// an error to Options.Stderr and returns the exit code. ctx ends long
// commands (failover --wait, local aws): main cancels it on SIGINT/SIGTERM.
func Run(ctx context.Context, args []string, opts Options) int {
	err := Execute(ctx, args, opts)
	if err != nil {
		fmt.Fprintf(opts.withDefaults().Stderr, "switchyard: %v\n", err)
	}
	return ExitCode(err)
}

// Execute runs the command line args and returns the command's error
// without printing it.
func Execute(ctx context.Context, args []string, opts Options) error {
	root := NewRootCommand(opts)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// NewRootCommand builds the switchyard command tree.
func NewRootCommand(opts Options) *cobra.Command {
	opts = opts.withDefaults()
	a := &app{stdout: opts.Stdout, stderr: opts.Stderr, awsConfig: opts.AWSConfig, clock: opts.Now}
	root := &cobra.Command{
		Use:   "switchyard",
		Short: "Serverless failover for PostgreSQL HA pairs on AWS",
		Long: "switchyard starts and follows failovers and switchovers of a PostgreSQL HA pair run\n" +
			"by the Switchyard Step Functions state machine, pauses and resumes automatic\n" +
			"failover, and reads the cluster record and its history.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          noArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return a.checkGlobals()
		},
	}
	root.SetOut(opts.Stdout)
	root.SetErr(opts.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.region, "region", "", "AWS region (default: AWS_REGION or the shared config)")
	pf.StringVar(&a.endpointURL, "endpoint-url", "", "base endpoint of every AWS client, e.g. the local emulator (default: AWS_ENDPOINT_URL)")
	pf.StringVar(&a.output, "output", OutputText, "output format: text or json")
	for _, newCommand := range commands {
		root.AddCommand(newCommand(a))
	}
	for _, ext := range opts.Extensions {
		cmd := ext(a)
		// An extension replaces a command of the same name (switchyard-dev's
		// offline validate).
		for _, c := range root.Commands() {
			if c.Name() == cmd.Name() {
				root.RemoveCommand(c)
			}
		}
		root.AddCommand(cmd)
	}
	return root
}

func (o Options) withDefaults() Options {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// noArgs is cobra.NoArgs as a UsageError; it also catches unknown
// subcommands of commands that only group others.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return usageErrorf("unknown command %q for %q; see '%s --help'", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return usageErrorf("%s takes no arguments, got %q; values go in flags (see '%s --help')", cmd.CommandPath(), args, cmd.CommandPath())
}
