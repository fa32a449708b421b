package pgharness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// PairOptions configures StartPair. The zero value gives an asynchronous
// pair node1 (primary) → node2 (standby) with database and role "app".
type PairOptions struct {
	// PrimaryName and StandbyName name the nodes (default node1, node2).
	PrimaryName, StandbyName string
	// Sync makes the primary wait for the standby on every commit
	// (synchronous_standby_names = the standby's name). See the package
	// documentation: such a commit never times out on its own.
	Sync bool
	// Database is created on the primary, owned by AppUser (default "app").
	Database string
	// AppUser and AppPassword are the application's login role (default
	// "app" / "app-password"); it authenticates with SCRAM.
	AppUser, AppPassword string
	// ReplicationAddr, when set, returns the host:port the standby's
	// primary_conninfo uses to reach the primary, for example the address of
	// a dataplane.Link to the primary's Addr. Default: primary.Addr().
	// The base backup itself is always taken directly from the primary.
	ReplicationAddr func(primary *Node) string
	// ExtraConfig adds postgresql.conf settings to both nodes; values are
	// written verbatim (quote strings yourself: "'10s'").
	ExtraConfig map[string]string
	// Logf, when set, receives progress lines (t.Logf fits).
	Logf func(format string, args ...any)
}

func (o *PairOptions) withDefaults() PairOptions {
	d := *o
	if d.PrimaryName == "" {
		d.PrimaryName = "node1"
	}
	if d.StandbyName == "" {
		d.StandbyName = "node2"
	}
	if d.Database == "" {
		d.Database = "app"
	}
	if d.AppUser == "" {
		d.AppUser = "app"
	}
	if d.AppPassword == "" {
		d.AppPassword = "app-password"
	}
	if d.Logf == nil {
		d.Logf = func(string, ...any) {}
	}
	return d
}

// Pair is a primary and a streaming standby in one temporary directory.
// Primary and Standby are the initial roles; after a promotion they keep
// their field names.
type Pair struct {
	Primary *Node
	Standby *Node
	// Dir holds both nodes; Close removes it.
	Dir string
	// Options are the options the pair was started with, defaults filled in.
	Options PairOptions

	closeOnce sync.Once
	closeErr  error
}

// StartPair creates, starts and connects a primary and a standby, and returns
// once the primary's pg_stat_replication shows the standby streaming (and, with
// Sync, as the synchronous standby). On error everything started is cleaned up.
func StartPair(ctx context.Context, opts PairOptions) (*Pair, error) {
	o := opts.withDefaults()
	env, err := newRuntimeEnv()
	if err != nil {
		return nil, err
	}
	dir, err := makeBaseDir(env)
	if err != nil {
		return nil, err
	}
	p := &Pair{Dir: dir, Options: o}
	if err := p.build(ctx, env); err != nil {
		if cerr := p.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, err
	}
	return p, nil
}

// makeBaseDir creates a temporary directory the run-as user owns and can reach.
func makeBaseDir(env *runtimeEnv) (string, error) {
	dir, err := os.MkdirTemp("", "switchyard-pg-")
	if err != nil {
		return "", fmt.Errorf("pgharness: create temporary directory: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(dir); err == nil {
		dir = resolved
	}
	if err := env.checkTraversable(dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if err := env.chown(dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

func (p *Pair) build(ctx context.Context, env *runtimeEnv) error {
	o := p.Options
	primary, err := newNode(env, p.Dir, o.PrimaryName, o.AppUser, o.AppPassword)
	if err != nil {
		return err
	}
	p.Primary = primary
	o.Logf("pgharness: initdb %s in %s (binaries %s, run as %s)", primary.Name, primary.DataDir, env.binDir, env.runAs)
	if err := primary.initdb(ctx, o.ExtraConfig); err != nil {
		return err
	}
	if err := startFresh(ctx, primary); err != nil {
		return err
	}
	o.Logf("pgharness: %s primary on %s (pid %d)", primary.Name, primary.Addr(), primary.PID())
	if err := createAppObjects(ctx, primary, o); err != nil {
		return err
	}

	standby, err := newNode(env, p.Dir, o.StandbyName, o.AppUser, o.AppPassword)
	if err != nil {
		return err
	}
	p.Standby = standby
	if err := baseBackup(ctx, primary, standby); err != nil {
		return err
	}
	replAddr := primary.Addr()
	if o.ReplicationAddr != nil {
		replAddr = o.ReplicationAddr(primary)
	}
	if err := standby.ConfigureStandby(replAddr); err != nil {
		return err
	}
	if err := startFresh(ctx, standby); err != nil {
		return err
	}
	o.Logf("pgharness: %s standby on %s (pid %d), replicating via %s", standby.Name, standby.Addr(), standby.PID(), replAddr)
	if err := primary.WaitStreaming(ctx, standby.Name, false); err != nil {
		return err
	}
	if o.Sync {
		if err := primary.SetSynchronousStandbys(ctx, standby.Name); err != nil {
			return err
		}
		if err := primary.WaitStreaming(ctx, standby.Name, true); err != nil {
			return err
		}
	}
	o.Logf("pgharness: %s streaming to %s (sync=%v)", primary.Name, standby.Name, o.Sync)
	return nil
}

// startFresh starts a node that has never run, moving it to another free
// port if someone took its port in the meantime.
func startFresh(ctx context.Context, n *Node) error {
	const attempts = 3
	var err error
	for i := 0; i < attempts; i++ {
		if err = n.Start(ctx); err == nil {
			return nil
		}
		if !strings.Contains(n.LogTail(4096), "could not bind") || ctx.Err() != nil {
			return err
		}
		port, perr := freePort()
		if perr != nil {
			return errors.Join(err, perr)
		}
		n.Port = port
		if werr := n.writeNodeConf(""); werr != nil {
			return errors.Join(err, werr)
		}
	}
	return err
}

// createAppObjects creates the application role and database.
func createAppObjects(ctx context.Context, primary *Node, o PairOptions) error {
	conn, err := primary.Connect(ctx, "postgres", Superuser)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	// Identifiers and the password are ours (options), quoted defensively.
	stmts := []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD %s", quoteIdent(o.AppUser), quoteLiteral(o.AppPassword)),
		fmt.Sprintf("CREATE DATABASE %s OWNER %s", quoteIdent(o.Database), quoteIdent(o.AppUser)),
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("pgharness: %s on %s: %w", strings.SplitN(s, " PASSWORD", 2)[0], primary.Name, err)
		}
	}
	return nil
}

func quoteIdent(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// baseBackup clones primary into standby's data directory with
// pg_basebackup -R (standby.signal, primary_conninfo); ConfigureStandby then
// points it at the replication address with its own per-node settings.
func baseBackup(ctx context.Context, primary, standby *Node) error {
	conninfo := fmt.Sprintf("host=127.0.0.1 port=%d user=%s application_name=%s",
		primary.Port, Superuser, standby.Name)
	cmd := standby.Command(ctx, "pg_basebackup",
		"-D", standby.DataDir, "-d", conninfo, "-X", "stream", "-c", "fast", "-R", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgharness: pg_basebackup %s from %s: %w\n%s", standby.Name, primary.Name, err, out)
	}
	return nil
}

// Close stops both nodes (fast, then by force), kills any process left in the
// pair's directory and removes the directory. It is safe to call more than
// once and from a deferred call after a failed start.
func (p *Pair) Close() error {
	p.closeOnce.Do(func() {
		var errs []error
		for _, n := range []*Node{p.Standby, p.Primary} {
			if n != nil {
				if err := n.shutdown(); err != nil {
					errs = append(errs, err)
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		var dataDirs []string
		for _, n := range []*Node{p.Standby, p.Primary} {
			if n != nil {
				dataDirs = append(dataDirs, n.DataDir)
			}
		}
		if err := killAllUnder(ctx, p.Dir, dataDirs...); err != nil {
			errs = append(errs, err)
		}
		if err := os.RemoveAll(p.Dir); err != nil {
			errs = append(errs, fmt.Errorf("pgharness: remove %s: %w", p.Dir, err))
		}
		p.closeErr = errors.Join(errs...)
	})
	return p.closeErr
}
