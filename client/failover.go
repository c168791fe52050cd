package client

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// Failover folder layout, under {CacheDir}/naming/{namespace}/:
//
//	failover/switch        "1" turns failover on, "0" (or no file) off
//	failover/<any name>    one service per file, the JSON of a snapshot
//
// While the switch is on, a service that has a failover file is read from
// it instead of the servers (servers are still polled, so the cache is
// fresh when the switch goes off); services without one are read as usual.
// The service a file describes is named by its content ("name", grouped or
// with "groupName", and "clusters"), not by the file name.
const (
	FailoverDir        = "failover"
	FailoverSwitchFile = "switch"
)

// failoverReader reads the failover folder, parsing only files that
// changed and logging each bad file once per version.
type failoverReader struct {
	dir string
	log *logrus.Entry

	files      map[string]failoverFile
	badSwitch  string
	wasOn      bool
	everLooked bool
}

type failoverFile struct {
	mod  time.Time
	size int64
	svc  *Service // nil: unreadable
}

func newFailoverReader(dir string, log *logrus.Entry) *failoverReader {
	return &failoverReader{dir: dir, log: log, files: map[string]failoverFile{}}
}

// read returns the failover view by cache key, or nil when the switch is off.
func (f *failoverReader) read() map[string]*Service {
	on := f.switchOn()
	if on != f.wasOn || !f.everLooked {
		if on {
			f.log.WithField("dir", f.dir).Warn("failover switch is on: services with a failover file are read from it, not from the servers")
		} else if f.everLooked {
			f.log.WithField("dir", f.dir).Info("failover switch is off: reading from the servers again")
		}
		f.wasOn, f.everLooked = on, true
	}
	if !on {
		return nil
	}
	ents, err := os.ReadDir(f.dir)
	if err != nil {
		f.log.WithError(err).Warn("cannot list the failover folder")
		return map[string]*Service{}
	}
	seen := map[string]bool{}
	out := map[string]*Service{}
	for _, de := range ents {
		name := de.Name()
		if name == FailoverSwitchFile || strings.HasPrefix(name, ".") || !de.Type().IsRegular() {
			continue
		}
		seen[name] = true
		fi, err := de.Info()
		if err != nil {
			continue
		}
		old, ok := f.files[name]
		if !ok || !old.mod.Equal(fi.ModTime()) || old.size != fi.Size() {
			path := filepath.Join(f.dir, name)
			old = failoverFile{mod: fi.ModTime(), size: fi.Size()}
			if svc, err := readServiceFile(path); err != nil {
				f.log.WithError(err).WithField("file", path).Warn("skipping unreadable failover file")
			} else {
				old.svc = &svc
			}
			f.files[name] = old
		}
		if old.svc != nil {
			out[cacheKey(old.svc.Name, old.svc.Clusters)] = old.svc
		}
	}
	for name := range f.files {
		if !seen[name] {
			delete(f.files, name)
		}
	}
	return out
}

// switchOn reads the switch file: "1" is on; missing, empty or "0" is off;
// anything else is off and logged once.
func (f *failoverReader) switchOn() bool {
	b, err := os.ReadFile(filepath.Join(f.dir, FailoverSwitchFile))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			f.log.WithError(err).Warn("cannot read the failover switch")
		}
		return false
	}
	v := string(bytes.TrimSpace(b))
	switch v {
	case "1":
		return true
	case "0", "":
		return false
	}
	if v != f.badSwitch {
		f.badSwitch = v
		f.log.WithField("content", clip(v)).Warn("failover switch holds neither 1 nor 0: taken as off")
	}
	return false
}

// sameView reports whether two failover views show the same services.
func sameView(a, b map[string]*Service) bool {
	if len(a) != len(b) {
		return false
	}
	for k, s := range a {
		o, ok := b[k]
		if !ok || digest(s) != digest(o) {
			return false
		}
	}
	return true
}
