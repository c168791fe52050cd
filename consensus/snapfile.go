package consensus

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"sextant/naming"
)

const (
	snapshotName    = "snapshot.json"
	snapshotTemp    = snapshotName + ".tmp"
	snapshotVersion = 1
)

// snapshotFile is the content of snapshot.json: the CP state after the
// record with sequence number Seq.
type snapshotFile struct {
	Version int                    `json:"version"`
	Seq     uint64                 `json:"seq"`
	State   naming.PersistentState `json:"state"`
}

// readSnapshot loads dir/snapshot.json; ok is false when there is none. A
// snapshot that cannot be read is an error: it was written whole, by rename,
// so damage means something outside Sextant touched it.
func readSnapshot(dir string) (snap snapshotFile, ok bool, err error) {
	f, err := os.Open(filepath.Join(dir, snapshotName))
	if errors.Is(err, fs.ErrNotExist) {
		return snap, false, nil
	}
	if err != nil {
		return snap, false, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<16))
	if err := dec.Decode(&snap); err != nil {
		return snap, false, fmt.Errorf("%s: %w", snapshotName, err)
	}
	if snap.Version != snapshotVersion {
		return snap, false, fmt.Errorf("%s: version %d is not supported (want %d)", snapshotName, snap.Version, snapshotVersion)
	}
	return snap, true, nil
}

// writeSnapshot replaces dir/snapshot.json atomically: it writes a temporary
// file, syncs it, renames it over the old one and syncs the directory, so a
// crash leaves either the old snapshot or the new one.
func writeSnapshot(dir string, snap snapshotFile) (err error) {
	sortState(&snap.State)
	tmp := filepath.Join(dir, snapshotTemp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<16)
	if err = json.NewEncoder(w).Encode(snap); err != nil {
		return err
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, snapshotName)); err != nil {
		return err
	}
	return syncDir(dir)
}

// sortState orders a state so that equal states give equal files.
func sortState(st *naming.PersistentState) {
	sort.Slice(st.Namespaces, func(i, j int) bool { return st.Namespaces[i].ID < st.Namespaces[j].ID })
	sort.Slice(st.Services, func(i, j int) bool {
		a, b := st.Services[i].Key, st.Services[j].Key
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		return a.Name < b.Name
	})
}

// syncDir makes a rename or a file creation in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
