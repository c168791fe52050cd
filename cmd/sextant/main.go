// Command sextant runs a Sextant registry node.
//
//	sextant server [flags]   run a node (standalone on embedded defaults)
//	sextant version          print the version
package main

import (
	"context"
	"errors"
	"flag"
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
  server    run a registry node (Nacos HTTP API + DNS); "sextant server -h" lists flags
  gateway   run a local DNS front fed by a remote cluster; "sextant gateway -h" lists flags
  version   print the version`)
}

// reload re-reads what can change at runtime: today the log level, from the
// config file (a --log-level flag keeps winning).
func reload(f *serverFlags, log *logrus.Logger) {
	cfg, err := f.reparse()
	if err != nil {
		log.WithError(err).Error("reload: keeping the running configuration")
		return
	}
	level, _ := logrus.ParseLevel(cfg.LogLevel)
	log.SetLevel(level)
	log.WithField("log-level", cfg.LogLevel).Info("configuration reloaded")
}

func runServer(args []string, stderr io.Writer) int {
	f := newServerFlags("server")
	f.fs.SetOutput(stderr)
	cfg, err := f.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "sextant:", err)
		return 2
	}
	log := logrus.New()
	log.SetOutput(stderr)
	level, _ := logrus.ParseLevel(cfg.LogLevel)
	log.SetLevel(level)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	n, err := startNode(ctx, cfg, log)
	if err != nil {
		log.WithError(err).Error("start failed")
		return 1
	}
	sd := newNotifier()
	if err := sd.send("READY=1"); err != nil {
		log.WithError(err).Warn("sd_notify")
	}
	go sd.watchdog(ctx, watchdogInterval(), func() bool { return n.alive() })

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-hup:
			_ = sd.send("RELOADING=1")
			reload(f, log)
			_ = sd.send("READY=1")
		}
	}
	_ = sd.send("STOPPING=1")
	log.Info("shutting down")
	if err := n.Close(); err != nil {
		log.WithError(err).Error("shutdown")
		return 1
	}
	log.Info("stopped")
	return 0
}
