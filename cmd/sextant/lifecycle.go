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
)

// configExit is how a node or gateway ends when its configuration does
// not build: 0 after -h (the flag set printed the help), 2 with the error
// on stderr otherwise. ok says there was no error and the command goes on.
func configExit(err error, stderr io.Writer, name string) (code int, ok bool) {
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return 0, false
	}
	fmt.Fprintln(stderr, name+":", err)
	return 2, false
}

// reloadLogLevel applies the log level of a configuration read again on
// SIGHUP, or logs why the running configuration is kept; false then.
func reloadLogLevel(log *logrus.Logger, level string, err error) bool {
	if err != nil {
		log.WithError(err).Error("reload: keeping the running configuration")
		return false
	}
	l, _ := logrus.ParseLevel(level)
	log.SetLevel(l)
	log.WithField("log-level", level).Info("configuration reloaded")
	return true
}

// newLogger returns the process logger writing to w at level (already
// validated by the configuration).
func newLogger(w io.Writer, level string) *logrus.Logger {
	log := logrus.New()
	log.SetOutput(w)
	l, _ := logrus.ParseLevel(level)
	log.SetLevel(l)
	return log
}

// serveUntilSignal runs a started server or gateway until ctx ends
// (SIGINT/SIGTERM): it tells systemd it is ready, pings the watchdog while
// alive holds, calls reload on SIGHUP, then closes and returns the exit code.
func serveUntilSignal(ctx context.Context, log *logrus.Logger, alive func() bool, reload func(), closeFn func() error) int {
	sd := newNotifier()
	if err := sd.send("READY=1"); err != nil {
		log.WithError(err).Warn("sd_notify")
	}
	go sd.watchdog(ctx, watchdogInterval(), alive)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-hup:
			_ = sd.send("RELOADING=1")
			reload()
			_ = sd.send("READY=1")
		}
	}
	_ = sd.send("STOPPING=1")
	log.Info("shutting down")
	if err := closeFn(); err != nil {
		log.WithError(err).Error("shutdown")
		return 1
	}
	log.Info("stopped")
	return 0
}
