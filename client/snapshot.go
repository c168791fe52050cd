package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"
)

// snapshots keeps one file per service held under
// {CacheDir}/naming/{namespace}/, each the JSON of a Service, written
// atomically (temporary file, fsync, rename).
type snapshots struct {
	dir string
	log *logrus.Entry
}

// fileName maps a cache key to a file name: path-escaped, so '/' and '%'
// cannot escape the folder; "." and ".." and hidden names are escaped too.
func fileName(key string) string {
	n := url.PathEscape(key)
	if strings.HasPrefix(n, ".") {
		n = "%2E" + n[1:]
	}
	return n
}

// write stores svc as the snapshot of key.
func (s *snapshots) write(key string, svc *Service) error {
	b, err := json.MarshalIndent(svc, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(s.dir, fileName(key), append(b, '\n'))
}

// writeAtomic writes data to dir/name so that a reader sees the old file
// or the new one, never a part.
func writeAtomic(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// remove deletes the snapshot of key, if any.
func (s *snapshots) remove(key string) {
	err := os.Remove(filepath.Join(s.dir, fileName(key)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.WithError(err).Warn("snapshot not removed")
	}
}

// load reads every snapshot file. Files that cannot be read or parsed
// (corrupt, truncated, not a service) are skipped with a log line; so are
// hidden files (temporary files of an interrupted write) and folders.
func (s *snapshots) load() []Service {
	return readServiceDir(s.dir, s.log, "snapshot", nil)
}

// readServiceDir parses every regular, non-hidden file of dir as a
// Service, skipping the names in skip. Missing dir: nothing.
func readServiceDir(dir string, log *logrus.Entry, what string, skip map[string]bool) []Service {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			log.WithError(err).WithField("dir", dir).Warnf("cannot list %s folder", what)
		}
		return nil
	}
	var out []Service
	for _, de := range ents {
		name := de.Name()
		if strings.HasPrefix(name, ".") || skip[name] || !de.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, name)
		svc, err := readServiceFile(path)
		if err != nil {
			log.WithError(err).WithField("file", path).Warnf("skipping unreadable %s file", what)
			continue
		}
		out = append(out, svc)
	}
	return out
}

// maxServiceFile bounds the size of a snapshot or failover file.
const maxServiceFile = 16 << 20

func readServiceFile(path string) (Service, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Service{}, err
	}
	if fi.Size() > maxServiceFile {
		return Service{}, fmt.Errorf("file of %d bytes is larger than %d", fi.Size(), maxServiceFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Service{}, err
	}
	svc, err := parseService(b)
	if err != nil {
		return Service{}, fmt.Errorf("not a service document: %w", err)
	}
	return svc, nil
}
