// Command notify publishes a message to the cluster's SNS topic for every
// change of the cluster record that an operator should hear about, as a
// Lambda function on the cluster table's DynamoDB stream. The logic is in
// internal/notify.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/notify"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("function", "notify")
	topic := os.Getenv(notify.EnvTopicARN)
	if topic == "" {
		log.Error("start-up failed: " + notify.EnvTopicARN + " is not set (the template sets it to the notification topic)")
		os.Exit(1)
	}
	clients, err := awsall.NewClients(context.Background())
	if err != nil {
		log.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start((&notify.Handler{SNS: clients.SNS, TopicARN: topic, Log: log}).Handle)
}
