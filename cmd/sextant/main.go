// Command sextant runs a Sextant registry node.
//
//	sextant server [flags]   run a node (standalone on embedded defaults)
//	sextant gateway [flags]  run a local DNS front that follows a cluster
//	sextant members|services|instances|register|deregister [flags]
//	                         operator commands against a running node
//	sextant version          print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sirupsen/logrus"

	"sextant/httpfront"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	httpfront.UseReleaseMode()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "server":
		return runServer(args[1:], stderr)
	case "gateway":
		return runGateway(args[1:], stderr)
	case "members":
		return runMembers(args[1:], stdout, stderr)
	case "services":
		return runServices(args[1:], stdout, stderr)
	case "instances":
		return runInstances(args[1:], stdout, stderr)
	case "register":
		return runRegister(args[1:], stdout, stderr)
	case "deregister":
		return runDeregister(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "sextant", version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "sextant: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage: sextant <command> [flags]

commands:
  server      run a registry node (Nacos HTTP API + DNS); "sextant server -h" lists flags
  gateway     run a local DNS front fed by a remote cluster; "sextant gateway -h" lists flags
  version     print the version

operator commands (talk to a node over HTTP: --server host:port, default $SEXTANT_SERVER
or 127.0.0.1:8848; exit 0 on success, 1 when refused or unreachable, 2 on bad usage):
  members     the cluster as the node sees it: address, state, Raft role
  services    services with their instance and healthy counts
  instances   the instances of one service (--service NAME) with their health
  register    register an instance (--service --ip --port [--ephemeral --weight --metadata k=v ...])
  deregister  remove an instance (--service --ip --port)`)
}

// reload re-reads what can change at runtime: the log level, from the
// config file (a --log-level flag keeps winning), and the member list, from
// cluster-conf (a bad file keeps the current list).
func reload(f *serverFlags, n *node, log *logrus.Logger) {
	cfg, err := f.reparse()
	if !reloadLogLevel(log, cfg.LogLevel, err) {
		return
	}
	n.reloadTLS(log)
	if n.cluster != nil && cfg.ClusterConf != "" {
		if err := n.cluster.members.Reload(); err != nil {
			log.WithError(err).Error("reload: keeping the current member list")
		} else {
			log.WithField("cluster-conf", cfg.ClusterConf).Info("member list reloaded")
		}
	}
}

func runServer(args []string, stderr io.Writer) int {
	f := newServerFlags("server")
	f.fs.SetOutput(stderr)
	cfg, err := f.parse(args)
	if code, ok := configExit(err, stderr, "sextant"); !ok {
		return code
	}
	log := newLogger(stderr, cfg.LogLevel)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// GOGC or GOMEMLIMIT in the environment means the operator chose.
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		gcc := defaultGCTunerConfig()
		gcc.Budget = uint64(cfg.MemoryBudget)
		if gc, err := newGCTuner(gcc, log.WithField("component", "gc")); err == nil {
			_ = gc.Start(ctx)
			defer gc.Close()
		}
	}
	n, err := startNode(ctx, cfg, log)
	if err != nil {
		log.WithError(err).Error("start failed")
		return 1
	}
	return serveUntilSignal(ctx, log, n.alive, func() { reload(f, n, log) }, n.Close)
}
