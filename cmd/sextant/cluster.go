package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/consensus"
	"sextant/consensus/cluster"
	"sextant/consensus/distro"
	"sextant/consensus/nodeauth"
	"sextant/consensus/raftcp"
	"sextant/httpfront/certs"
	"sextant/naming"
)

// raftPortOffset: a member's Raft address is its HTTP port minus 1000
// (8848 → 7848), as in Nacos, so a member list of HTTP addresses is enough.
const raftPortOffset = -1000

// clusterNode holds the replication layers of a node that runs in a
// cluster: membership, Distro for ephemeral data, Raft for CP data, and the
// router that is the node's naming.Writer.
type clusterNode struct {
	stopVoters func()
	// stopCatchUp ends catchUp; caughtUp holds once this member caught up
	// with the Raft leader (or gave up waiting).
	stopCatchUp func()
	caughtUp    atomic.Bool
	members     *cluster.Membership
	distro      *distro.Engine
	raft        *raftcp.Node
	router      *consensus.Router
	internal    http.Handler
	raftCerts   *certs.Reloader // the Raft port's certificate, nil without TLS
}

// raftAddrOf derives a member's Raft address from its HTTP address.
func raftAddrOf(httpAddr string) (string, error) {
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		return "", err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p+raftPortOffset <= 0 {
		return "", fmt.Errorf("member %s: its Raft port would be %d; use HTTP ports above 1000", httpAddr, p+raftPortOffset)
	}
	return net.JoinHostPort(host, strconv.Itoa(p+raftPortOffset)), nil
}

// startCluster joins the cluster described by cfg. The node is ready (see
// Ready) once Distro has loaded the ephemeral data from its peers.
func startCluster(ctx context.Context, cfg Config, cat *naming.Catalog, log *logrus.Logger) (c *clusterNode, err error) {
	c = &clusterNode{}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	mcfg := cluster.DefaultConfig()
	mcfg.Self, mcfg.Members, mcfg.File = cfg.HTTPAddr, cfg.Members, cfg.ClusterConf
	mcfg.Progress = c.raftProgress
	ccfg := cluster.DefaultHTTPConfig()
	ccfg.Secret = cfg.ClusterSecret
	if err := secureClusterHTTP(cfg, &ccfg); err != nil {
		return c, err
	}
	ctr, err := cluster.NewHTTPTransport(ccfg, cluster.NewHTTPClient(ccfg))
	if err != nil {
		return c, err
	}
	if c.members, err = cluster.New(mcfg, ctr, log.WithField("component", "members")); err != nil {
		return c, err
	}
	if len(c.members.Members()) > 1 && cfg.ClusterSecret == "" {
		return c, errNoClusterSecret
	}
	if len(cfg.ClusterSecret) < nodeauth.MinSecretLen && cfg.ClusterSecret != "" {
		log.Warnf("cluster-secret is shorter than %d bytes: anyone who guesses it can write to the cluster", nodeauth.MinSecretLen)
	}

	dcfg := distro.DefaultHTTPConfig()
	dcfg.Secret, dcfg.Scheme = cfg.ClusterSecret, ccfg.Scheme
	dtr, err := distro.NewHTTPTransport(dcfg, c.members.Self(), cluster.NewHTTPClient(ccfg))
	if err != nil {
		return c, err
	}
	offset, err := clockOffset()
	if err != nil {
		return c, err
	}
	if offset != 0 {
		log.WithField("offset", offset).Warn(clockOffsetEnv + " moves this node's clock: a test setting")
	}
	dscfg := distro.DefaultConfig()
	dscfg.SyncDelay, dscfg.Now = cfg.DistroSyncDelay, offsetNow(offset)
	if c.distro, err = distro.New(dscfg, cat, c.members, dtr, log.WithField("component", "distro")); err != nil {
		return c, err
	}

	rcfg := raftcp.DefaultConfig()
	rcfg.DataDir = filepath.Join(cfg.DataDir, "raft")
	for _, m := range c.members.Members() {
		addr, err := raftAddrOf(m.Address)
		if err != nil {
			return c, err
		}
		p := raftcp.Peer{ID: m.Address, RaftAddr: addr}
		if m.Self {
			rcfg.Self = p
		}
		rcfg.Peers = append(rcfg.Peers, p)
	}
	rcfg.BindAddr = cfg.RaftAddr
	rcfg.Secret = cfg.ClusterSecret
	if rcfg.TLSServer, rcfg.TLSClient, c.raftCerts, err = raftTLS(cfg); err != nil {
		return c, fmt.Errorf("raft tls: %w", err)
	}
	rcfg.Join = cfg.RaftJoin
	rcfg.ApplyTimeout = cfg.RaftApplyTimeout
	if c.raft, err = raftcp.New(rcfg, cat, log.WithField("component", "raft")); err != nil {
		return c, err
	}

	rtcfg := routerConfig(cfg)
	rtcfg.Now = offsetNow(offset)
	c.router = consensus.NewRouter(rtcfg, cat, c.distro, c.raft,
		clusterForwarder(cfg, ccfg), log.WithField("component", "router"))

	c.internal = consensus.InternalHandler(c.router.CPApplyHandler(cfg.ClusterSecret),
		distro.NewNodeHandler(c.distro, c.members, ccfg, dcfg))

	if err = c.members.Start(ctx); err != nil {
		return c, fmt.Errorf("membership: %w", err)
	}
	if err = c.raft.Start(ctx); err != nil {
		return c, fmt.Errorf("raft: %w", err)
	}
	if err = c.distro.Start(ctx); err != nil {
		return c, fmt.Errorf("distro: %w", err)
	}
	c.stopVoters = c.followVoters(ctx, log.WithField("component", "raft-voters"))
	c.stopCatchUp = c.catchUp(log.WithField("component", "raft"))
	return c, nil
}

// followVoters keeps the Raft voters equal to the configured members: when
// the member list changes (cluster.conf edited, SIGHUP), the leader adds the
// new members and removes at most one per round; raftcp refuses a change
// that would lose the quorum. It runs on every node; only the leader acts.
func (c *clusterNode) followVoters(ctx context.Context, log *logrus.Entry) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	changed := make(chan struct{}, 1)
	unwatch := c.members.Watch(func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		last, allowed := "", ""
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			case <-changed:
			}
			var peers []raftcp.Peer
			var names []string
			for _, m := range c.members.Members() {
				addr, err := raftAddrOf(m.Address)
				if err != nil {
					log.WithError(err).Warn("member left out of the raft voters")
					continue
				}
				peers = append(peers, raftcp.Peer{ID: m.Address, RaftAddr: addr})
				names = append(names, m.Address)
			}
			key := strings.Join(names, ",")
			if key != allowed {
				c.raft.AllowPeers(peers) // every node: the Raft port admits members only
				allowed = key
			}
			if !c.raft.IsLeader() {
				continue
			}
			sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
			err := c.raft.SetPeers(sctx, peers)
			scancel()
			switch {
			case err != nil:
				log.WithError(err).Warn("raft voters not changed")
			case key != last:
				log.WithField("voters", key).Info("raft voters follow the member list")
			}
			last = key
		}
	}()
	return func() { unwatch(); cancel(); <-done }
}

// load fetches the ephemeral data from the peers; the node serves only
// afterwards. It runs once the HTTP front listens, since peers that start
// at the same moment load from each other.
func (c *clusterNode) load(ctx context.Context) error { return c.distro.Load(ctx) }

// Members is this node's view of the cluster, with Raft roles where known.
func (c *clusterNode) Members() []naming.Member {
	ms := c.members.Members()
	leader := c.raft.Leader()
	for i := range ms {
		switch {
		case ms[i].Self:
			ms[i].RaftRole = c.raft.Role()
		case ms[i].Address == leader:
			ms[i].RaftRole = "Leader"
		default:
			ms[i].RaftRole = "Follower"
		}
	}
	return ms
}

// cutOff reports whether this member's live set holds no majority of the
// configured members: it is cut off from most of the cluster.
func (c *clusterNode) cutOff() bool {
	return 2*len(c.members.Live()) <= len(c.members.Members())
}

// Ready is nil once Distro has loaded and this member has caught up with
// the Raft leader (catchUp); a Raft leader is not required for long, so
// that the AP half keeps serving on the minority side of a partition.
func (c *clusterNode) Ready() error {
	if err := c.distro.Ready(); err != nil {
		return err
	}
	if !c.caughtUp.Load() {
		return errCatchingUp
	}
	return nil
}

// Leader is the Raft leader's HTTP address.
func (c *clusterNode) Leader() string { return c.raft.Leader() }

// Close stops the router's background writes, then Distro, then Raft,
// then membership.
func (c *clusterNode) Close() error {
	if c.stopVoters != nil {
		c.stopVoters()
	}
	if c.stopCatchUp != nil {
		c.stopCatchUp()
	}
	var errs []error
	if c.router != nil {
		errs = append(errs, c.router.Close())
	}
	if c.distro != nil {
		errs = append(errs, c.distro.Close())
	}
	if c.raft != nil {
		errs = append(errs, c.raft.Close())
	}
	if c.members != nil {
		errs = append(errs, c.members.Close())
	}
	return errors.Join(errs...)
}

// Owner names the Distro owner of a service (for /operator/distro/server).
func (c *clusterNode) Owner(key naming.ServiceKey) string { return c.distro.Owner(key) }

// IsLeader reports whether this node leads the Raft group.
func (c *clusterNode) IsLeader() bool { return c.raft.IsLeader() }

// ReadBarrier makes a read on the leader linearizable without a log write:
// the node records its commit index, confirms it still leads, and waits
// until that index is applied (raftcp.Node.ReadIndex).
func (c *clusterNode) ReadBarrier(ctx context.Context) error {
	return c.raft.ReadIndex(ctx)
}
