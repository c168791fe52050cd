package raftcp

import (
	"errors"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

func TestHCLogAdapter(t *testing.T) {
	base, hook := test.NewNullLogger()
	base.SetLevel(logrus.InfoLevel)
	l := newHCLogger(base.WithField("component", "raftcp"))

	l.Debug("hidden") // below the logger's level
	l.Info("entering leader state", "term", 3, "servers", hclog.Fmt("%d voters", 3))
	l.Named("snapshot").With("path", "/x").Warn("slow", "error", errors.New("disk"))
	l.Error("odd", "lonely")
	l.Log(hclog.Off, "never")

	entries := hook.AllEntries()
	if len(entries) != 3 {
		t.Fatalf("%d entries, want 3", len(entries))
	}
	if e := entries[0]; e.Level != logrus.InfoLevel || e.Message != "entering leader state" ||
		e.Data["term"] != 3 || e.Data["servers"] != "3 voters" || e.Data["subsystem"] != "raft" || e.Data["component"] != "raftcp" {
		t.Errorf("info entry %v %+v", e.Level, e.Data)
	}
	if e := entries[1]; e.Level != logrus.WarnLevel || e.Data["subsystem"] != "raft.snapshot" || e.Data["path"] != "/x" || e.Data["error"] != "disk" {
		t.Errorf("warn entry %v %+v", e.Level, e.Data)
	}
	if e := entries[2]; e.Level != logrus.ErrorLevel || e.Data["extra_value"] != "lonely" {
		t.Errorf("error entry %v %+v", e.Level, e.Data)
	}
	if l.IsDebug() || !l.IsInfo() || !l.IsError() || l.GetLevel() != hclog.Info {
		t.Error("level queries do not follow the logrus level")
	}
	l.SetLevel(hclog.Trace) // owned by logrus: no effect
	if l.IsTrace() {
		t.Error("SetLevel changed the process's logger")
	}
	l.StandardLogger(nil).Print("from a std logger")
	if last := hook.LastEntry(); last.Message != "from a std logger" || last.Level != logrus.InfoLevel {
		t.Errorf("std logger entry %+v", last)
	}
}
