package raftcp

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/sirupsen/logrus"
)

// hclogAdapter sends hashicorp/raft's hclog output to a logrus entry, so
// raft's own messages share the node's logger, levels and fields.
type hclogAdapter struct {
	entry   *logrus.Entry
	name    string
	implied []interface{}
}

func newHCLogger(entry *logrus.Entry) hclog.Logger {
	return &hclogAdapter{entry: entry, name: "raft"}
}

var _ hclog.Logger = (*hclogAdapter)(nil)

func toLogrus(l hclog.Level) (logrus.Level, bool) {
	switch l {
	case hclog.Trace:
		return logrus.TraceLevel, true
	case hclog.Debug:
		return logrus.DebugLevel, true
	case hclog.NoLevel, hclog.Info:
		return logrus.InfoLevel, true
	case hclog.Warn:
		return logrus.WarnLevel, true
	case hclog.Error:
		return logrus.ErrorLevel, true
	}
	return logrus.PanicLevel, false // hclog.Off and unknown levels: never logged
}

// fields turns hclog's alternating key/value arguments into logrus fields.
func (a *hclogAdapter) fields(args []interface{}) logrus.Fields {
	f := logrus.Fields{}
	if a.name != "" {
		f["subsystem"] = a.name
	}
	all := append(append([]interface{}{}, a.implied...), args...)
	for i := 0; i < len(all); i += 2 {
		if i+1 == len(all) {
			f["extra_value"] = all[i]
			break
		}
		k, ok := all[i].(string)
		if !ok {
			k = fmt.Sprint(all[i])
		}
		f[k] = value(all[i+1])
	}
	return f
}

// value renders hclog's formatting wrappers the way hclog would.
func value(v interface{}) interface{} {
	switch x := v.(type) {
	case hclog.Format:
		if len(x) > 0 {
			if format, ok := x[0].(string); ok {
				return fmt.Sprintf(format, x[1:]...)
			}
		}
		return fmt.Sprint([]interface{}(x)...)
	case hclog.Hex:
		return fmt.Sprintf("0x%x", int(x))
	case hclog.Octal:
		return fmt.Sprintf("0%o", int(x))
	case hclog.Binary:
		return fmt.Sprintf("0b%b", int(x))
	case hclog.Quote:
		return fmt.Sprintf("%q", string(x))
	case error:
		return x.Error()
	}
	return v
}

func (a *hclogAdapter) Log(level hclog.Level, msg string, args ...interface{}) {
	lv, ok := toLogrus(level)
	if !ok || !a.entry.Logger.IsLevelEnabled(lv) {
		return
	}
	a.entry.WithFields(a.fields(args)).Log(lv, msg)
}

func (a *hclogAdapter) Trace(msg string, args ...interface{}) { a.Log(hclog.Trace, msg, args...) }
func (a *hclogAdapter) Debug(msg string, args ...interface{}) { a.Log(hclog.Debug, msg, args...) }
func (a *hclogAdapter) Info(msg string, args ...interface{})  { a.Log(hclog.Info, msg, args...) }
func (a *hclogAdapter) Warn(msg string, args ...interface{})  { a.Log(hclog.Warn, msg, args...) }
func (a *hclogAdapter) Error(msg string, args ...interface{}) { a.Log(hclog.Error, msg, args...) }

func (a *hclogAdapter) IsTrace() bool { return a.entry.Logger.IsLevelEnabled(logrus.TraceLevel) }
func (a *hclogAdapter) IsDebug() bool { return a.entry.Logger.IsLevelEnabled(logrus.DebugLevel) }
func (a *hclogAdapter) IsInfo() bool  { return a.entry.Logger.IsLevelEnabled(logrus.InfoLevel) }
func (a *hclogAdapter) IsWarn() bool  { return a.entry.Logger.IsLevelEnabled(logrus.WarnLevel) }
func (a *hclogAdapter) IsError() bool { return a.entry.Logger.IsLevelEnabled(logrus.ErrorLevel) }

func (a *hclogAdapter) ImpliedArgs() []interface{} { return a.implied }

func (a *hclogAdapter) With(args ...interface{}) hclog.Logger {
	c := *a
	c.implied = append(append([]interface{}{}, a.implied...), args...)
	return &c
}

func (a *hclogAdapter) Name() string { return a.name }

func (a *hclogAdapter) Named(name string) hclog.Logger {
	c := *a
	if c.name != "" {
		c.name += "." + name
	} else {
		c.name = name
	}
	return &c
}

func (a *hclogAdapter) ResetNamed(name string) hclog.Logger {
	c := *a
	c.name = name
	return &c
}

// SetLevel does nothing: the level belongs to the process's logrus logger.
func (a *hclogAdapter) SetLevel(hclog.Level) {}

func (a *hclogAdapter) GetLevel() hclog.Level {
	switch a.entry.Logger.GetLevel() {
	case logrus.TraceLevel:
		return hclog.Trace
	case logrus.DebugLevel:
		return hclog.Debug
	case logrus.InfoLevel:
		return hclog.Info
	case logrus.WarnLevel:
		return hclog.Warn
	}
	return hclog.Error
}

func (a *hclogAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(a.StandardWriter(opts), "", 0)
}

func (a *hclogAdapter) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	level := hclog.Info
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = opts.ForceLevel
	}
	return &lineWriter{a: a, level: level}
}

// lineWriter logs every line written to it (standard library loggers).
type lineWriter struct {
	a     *hclogAdapter
	level hclog.Level
}

func (w *lineWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		if s := strings.TrimSpace(string(line)); s != "" {
			w.a.Log(w.level, s)
		}
	}
	return len(p), nil
}
