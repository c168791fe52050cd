package raftcp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// stores is what raft keeps its state in, plus the transport.
type stores struct {
	logs   raft.LogStore
	stable raft.StableStore
	snaps  raft.SnapshotStore
	trans  raft.Transport

	closers []io.Closer // bolt file and a transport this package created
}

// logCacheSize is how many recent entries are kept in memory in front of
// the bolt log, so replication to followers rarely reads the disk.
const logCacheSize = 512

// boltOptions opens raft.db. Every commit is still synced (fdatasync);
// only bolt's free-page list is not written on each commit but rebuilt by
// a scan when the file is opened, as etcd does. After log compaction that
// list spans many pages, and writing it made every append slower (measured
// 310–390 µs of CPU per single-entry StoreLogs against 205–225 µs without,
// and 0.8–1.4 ms against 0.5 ms of latency). A file written either way opens
// either way.
func boltOptions() *bbolt.Options {
	return &bbolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType}
}

// openStores opens the data dir (or in-memory stores) and the transport.
func openStores(cfg Config, hlog hclog.Logger, src *sources) (*stores, error) {
	st := &stores{}
	if cfg.InMemory {
		mem := raft.NewInmemStore()
		st.logs, st.stable, st.snaps = mem, mem, &memSnapshots{}
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("raftcp: create data dir: %w", err)
		}
		bolt, err := raftboltdb.New(raftboltdb.Options{
			Path:        filepath.Join(cfg.DataDir, "raft.db"),
			BoltOptions: boltOptions(),
		})
		if err != nil {
			return nil, fmt.Errorf("raftcp: open %s (is another node using this data dir?): %w", filepath.Join(cfg.DataDir, "raft.db"), err)
		}
		st.closers = append(st.closers, bolt)
		cache, err := raft.NewLogCache(logCacheSize, bolt)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("raftcp: log cache: %w", err)
		}
		st.logs, st.stable = cache, bolt
		snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, cfg.SnapshotRetain, hlog.Named("snapshot"))
		if err != nil {
			st.close()
			return nil, fmt.Errorf("raftcp: open snapshots: %w", err)
		}
		st.snaps = snaps
	}
	st.trans = cfg.Transport
	if st.trans == nil {
		t, err := tcpTransport(cfg, src, hlog)
		if err != nil {
			st.close()
			return nil, err
		}
		st.trans = t
		st.closers = append(st.closers, t)
	}
	return st, nil
}

// tcpTransport listens on bind (addr when empty) and advertises addr, which
// must therefore name a concrete IP (or a host resolving to one).
// With a secret, connections are authenticated and admitted only from
// src (authstream.go).
func tcpTransport(cfg Config, src *sources, hlog hclog.Logger) (*raft.NetworkTransport, error) {
	bind, addr, secret := cfg.BindAddr, cfg.Self.RaftAddr, cfg.Secret
	adv, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("raftcp: raft address %s: %w", addr, err)
	}
	if adv.IP == nil || adv.IP.IsUnspecified() {
		return nil, fmt.Errorf("raftcp: raft address %s must name the host other members dial, not a wildcard", addr)
	}
	if bind == "" {
		bind = addr
	}
	if secret != "" {
		src.refresh()
		ln, err := net.Listen("tcp", bind)
		if err != nil {
			return nil, fmt.Errorf("raftcp: listen on raft address %s: %w", bind, err)
		}
		return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream: newTLSAuthStream(ln, adv, secret, src, cfg.TLSServer, cfg.TLSClient), MaxPool: 3, Timeout: 10 * time.Second, Logger: hlog.Named("transport"),
		}), nil
	}
	t, err := raft.NewTCPTransportWithLogger(bind, adv, 3, 10*time.Second, hlog.Named("transport"))
	if err != nil {
		return nil, fmt.Errorf("raftcp: listen on raft address %s: %w", bind, err)
	}
	return t, nil
}

// close closes what openStores opened, in reverse order. Closing a
// transport twice is harmless.
func (st *stores) close() error {
	var errs []error
	for i := len(st.closers) - 1; i >= 0; i-- {
		if err := st.closers[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	st.closers = nil
	return errors.Join(errs...)
}
