package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/pgnode"
)

// login is the PostgreSQL login in the database secret, as the Lambdas
// read it.
type login = pgnode.Login

// checkDatabase reads the database secret and logs in to each node with
// it, as the Lambdas do (database.name, sslMode, connect timeout), from
// wherever the checks run.
func checkDatabase(ctx context.Context, api awsall.SecretsAPI, cfg *cluster.Config) []Check {
	id := cfg.Database.SecretID
	ch := Check{Name: "database secret " + id}
	if api == nil {
		return []Check{failed(ch, "no Secrets Manager client", "run validate with AWS credentials")}
	}
	out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		fix := "set database.secretId (template: DatabaseSecretArn) to the secret's ARN, and allow secretsmanager:GetSecretValue on it"
		if awsapi.IsNotFound(err) {
			fix = "create the secret {\"username\":…,\"password\":…} or set database.secretId (template: DatabaseSecretArn) to it"
		}
		return []Check{failed(ch, err.Error(), fix)}
	}
	l, err := pgnode.ParseLogin(out.SecretString)
	if err != nil {
		return []Check{failed(ch, err.Error(),
			`aws secretsmanager put-secret-value --secret-id `+id+` --secret-string '{"username":"switchyard","password":"…"}'`)}
	}
	ch.Status, ch.Detail = OK, fmt.Sprintf("login %s (password not shown)", l.Username)
	checks := []Check{ch}
	for _, n := range cfg.Nodes {
		checks = append(checks, checkLogin(ctx, cfg, n, l))
	}
	return checks
}

// checkLogin connects to one node and reports its version and role.
func checkLogin(ctx context.Context, cfg *cluster.Config, n cluster.Node, l login) Check {
	ch := Check{Name: "database login " + n.Name}
	dsn, err := dsnFor(cfg, n.PostgresAddr, l)
	if err != nil {
		return failed(ch, err.Error(), "set nodes[].postgresAddr to <private IP>:<port>")
	}
	timeout := cfg.ConnectTimeout()
	ctx, cancel := context.WithTimeout(ctx, 2*timeout+5*time.Second) // the connection, then two short queries
	defer cancel()
	conn, err := pgnode.Connect(ctx, dsn, timeout)
	if err != nil {
		return failed(ch, err.Error(), loginFix(err, cfg, n, l, timeout))
	}
	defer func() { _ = conn.Close(context.Background()) }()
	version := conn.PgConn().ParameterStatus("server_version")
	inRecovery, err := pgnode.InRecovery(ctx, conn)
	if err != nil {
		return failed(ch, fmt.Sprintf("logged in as %s, then: %v", l.Username, err), "GRANT pg_monitor TO "+l.Username+" (see the README's database role)")
	}
	role := "primary (not in recovery)"
	if inRecovery {
		role = "standby (in recovery)"
	}
	ch.Status = OK
	ch.Detail = fmt.Sprintf("logged in as %s to %s at %s: PostgreSQL %s, %s", l.Username, cfg.Database.Name, n.PostgresAddr, version, role)
	return ch
}

// dsnFor is the login's DSN for addr as validate connects.
func dsnFor(cfg *cluster.Config, addr string, l login) (string, error) {
	return l.DSN(addr, cfg.Database.Name, cfg.Database.SSLMode, "switchyard-validate")
}

// loginFix names the likely fix for a failed login.
func loginFix(err error, cfg *cluster.Config, n cluster.Node, l login, timeout time.Duration) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "28P01":
			return fmt.Sprintf("the secret's password is not %s's: ALTER ROLE %s PASSWORD '…' on the primary, or put the right one in the secret %s",
				l.Username, l.Username, cfg.Database.SecretID)
		case strings.Contains(pgErr.Message, "pg_hba.conf"):
			return fmt.Sprintf("add to pg_hba.conf on %s: hostssl %s %s <the Lambda subnets' CIDR blocks> scram-sha-256, then SELECT pg_reload_conf() (validate connects from where it runs: that address needs an entry too)",
				n.Name, cfg.Database.Name, l.Username)
		case pgErr.Code == "3D000":
			return "set database.name (template: DatabaseName) to an existing database"
		case pgErr.Code == "28000":
			return fmt.Sprintf("create the role (CREATE ROLE %s LOGIN PASSWORD '…', see the README's database role)", l.Username)
		case pgErr.Code == "53300":
			return "too many connections: raise max_connections, or end idle sessions"
		case pgErr.Code == "57P03":
			return "PostgreSQL is starting or shutting down: retry when it accepts connections"
		}
		return "see PostgreSQL's log on " + n.Name
	}
	reach := "--connect connects from where validate runs: run it from inside the VPC (or through a tunnel to " + n.PostgresAddr + ")"
	switch {
	case pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s. %s; from there check the security groups and that PostgreSQL listens on %s (listen_addresses)", timeout, reach, n.PostgresAddr)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing listens on %s: start PostgreSQL on %s, or fix nodes[].postgresAddr, listen_addresses or port", n.PostgresAddr, n.Name)
	case strings.Contains(err.Error(), "refused TLS") || strings.Contains(err.Error(), "tls:"):
		return fmt.Sprintf("TLS failed with sslMode %s: turn ssl on in PostgreSQL on %s, or set database.sslMode", cfg.Database.SSLMode, n.Name)
	}
	return reach
}
