// Package lambdamain is the shared start-up of the failover Lambdas: read
// the cluster config from SWITCHYARD_CONFIG, build the AWS clients with the
// default credential chain, and hand the step's handler to lambda.Start.
// functions/<step>/main.go is one call to Start.
package lambdamain
