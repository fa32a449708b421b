package lambdamain

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/failover"
)

// Start builds the dependencies and runs the handler that handlerFor
// returns. It exits the process on a configuration error, which Lambda
// reports as an init failure naming the problem.
func Start(step string, handlerFor func(*failover.Deps) any) {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("function", step)
	deps, err := Load(context.Background())
	if err != nil {
		log.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	deps.Log = log
	lambda.Start(handlerFor(deps))
}

// Load reads the configuration and builds real clients.
func Load(ctx context.Context) (*failover.Deps, error) {
	cfg, err := cluster.FromEnv()
	if err != nil {
		return nil, err
	}
	clients, err := awsall.NewClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("building AWS clients: %w", err)
	}
	return failover.NewDeps(cfg, clients), nil
}
