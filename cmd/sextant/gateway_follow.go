package main

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/client"
	"sextant/naming"
)

func refOf(key naming.ServiceKey) client.ServiceRef {
	return client.ServiceRef{ServiceName: key.Name, GroupName: key.Group}
}

// follow starts following a service (once): the client subscription keeps
// the mirror in step with what the client holds.
func (g *gateway) follow(key naming.ServiceKey, onDemand bool) (*follow, error) {
	if err := key.Validate(); err != nil {
		return nil, err
	}
	c, err := g.clientFor(key.Namespace)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	if f, ok := g.follows[key]; ok {
		g.mu.Unlock()
		return f, nil
	}
	if onDemand && g.onDemandCountLocked() >= g.cfg.MaxServices {
		g.mu.Unlock()
		return nil, fmt.Errorf("gateway follows %d services on demand already (max-services)", g.cfg.MaxServices)
	}
	f := &follow{key: key, onDemand: onDemand}
	g.follows[key] = f
	if onDemand {
		g.asked.SetDefault(key.String(), struct{}{})
	}
	g.mu.Unlock()
	// What the client holds already (the snapshot) goes in before any
	// callback, so the first query can be answered from it.
	g.sync(key)
	cancel, err := c.Subscribe(refOf(key), func(client.Service) { g.sync(key) })
	if err != nil {
		g.mu.Lock()
		delete(g.follows, key)
		g.mu.Unlock()
		return nil, err
	}
	f.mu.Lock()
	f.cancel = cancel
	f.mu.Unlock()
	g.log.WithFields(logrus.Fields{"service": key.String(), "onDemand": onDemand}).Info("following service")
	return f, nil
}

func (g *gateway) onDemandCountLocked() int {
	n := 0
	for _, f := range g.follows {
		if f.onDemand {
			n++
		}
	}
	return n
}

func (g *gateway) followCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.follows)
}

// onMiss is the DNS front's hook for a query naming a service the mirror
// does not hold: follow it, and wait up to miss-wait for a first answer.
func (g *gateway) onMiss(key naming.ServiceKey) bool {
	if g.ctx.Err() != nil {
		return false
	}
	f, err := g.follow(key, true)
	if err != nil {
		g.log.WithError(err).WithField("service", key.String()).Debug("query for a service that cannot be followed")
		return false
	}
	if f.onDemand {
		g.asked.SetDefault(key.String(), struct{}{})
	}
	if _, recent := g.missed.Get(key.String()); recent || g.cfg.MissWait <= 0 {
		return false
	}
	c := g.client(key.Namespace)
	if c == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(g.ctx, g.cfg.MissWait)
	defer cancel()
	if _, err := c.GetService(ctx, refOf(key)); err != nil {
		g.missed.SetDefault(key.String(), struct{}{})
		return false
	}
	g.sync(key)
	_, ok := g.mirror.Service(key)
	return ok
}

// sync makes the mirror's copy of key what the client holds now. It reads
// the client's current view rather than the one a callback carries, so
// calls in any order end with the newest view.
func (g *gateway) sync(key naming.ServiceKey) {
	c := g.client(key.Namespace)
	if c == nil {
		return
	}
	svc, ok := c.Peek(refOf(key))
	if !ok {
		return
	}
	g.syncMu.Lock()
	defer g.syncMu.Unlock()
	g.mirrorService(key, svc)
}

// mirrorService applies the difference between the mirror and svc: the
// ephemeral instances are replaced in one operation (one change for the
// DNS front), persistent ones registered and deregistered one by one. A
// service never seen with instances is not created, so unknown names stay
// NXDOMAIN. The caller holds syncMu.
func (g *gateway) mirrorService(key naming.ServiceKey, svc client.Service) {
	cur, exists := g.mirror.Service(key)
	if !exists && len(svc.Hosts) == 0 {
		return
	}
	now := time.Now().UnixMilli()
	var eph []*naming.Instance
	pers := map[naming.InstanceKey]*naming.Instance{}
	for _, h := range svc.Hosts {
		in := &naming.Instance{IP: h.IP, Port: h.Port, Cluster: h.ClusterName, Weight: h.Weight,
			Healthy: h.Healthy, Enabled: h.Enabled, Ephemeral: h.Ephemeral, Metadata: h.Metadata}
		if in.Cluster == "" {
			in.Cluster = naming.DefaultCluster
		}
		if err := naming.ValidateInstance(in); err != nil {
			g.log.WithError(err).WithFields(logrus.Fields{"service": key.String(), "instance": h.Addr()}).Warn("instance left out of the mirror")
			continue
		}
		if in.Ephemeral {
			eph = append(eph, in)
		} else {
			pers[in.Key()] = in
		}
	}
	apply := func(op naming.Op) {
		op.Time, op.Service = now, key
		if err := g.mirror.Apply(op); err != nil {
			g.log.WithError(err).WithFields(logrus.Fields{"service": key.String(), "op": op.Kind.String()}).Warn("mirror update failed")
		}
	}
	apply(naming.Op{Kind: naming.OpReplaceEphemeral, Instances: eph})
	if cur != nil {
		for _, in := range cur.Instances {
			if !in.Ephemeral && pers[in.Key()] == nil {
				apply(naming.Op{Kind: naming.OpDeregister, Target: in.Key()})
			}
		}
	}
	for k, in := range pers {
		if cur != nil {
			if old := cur.Find(k); old != nil && !old.Ephemeral && sameInstance(old, in) {
				continue
			}
		}
		apply(naming.Op{Kind: naming.OpRegister, Instance: in})
	}
}

func sameInstance(a, b *naming.Instance) bool {
	if a.Weight != b.Weight || a.Healthy != b.Healthy || a.Enabled != b.Enabled || len(a.Metadata) != len(b.Metadata) {
		return false
	}
	for k, v := range a.Metadata {
		if bv, ok := b.Metadata[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// unfollow stops following key and forgets it in the client.
func (g *gateway) unfollow(f *follow) {
	g.mu.Lock()
	delete(g.follows, f.key)
	c := g.clients[f.key.Namespace]
	g.mu.Unlock()
	g.asked.Delete(f.key.String())
	g.missed.Delete(f.key.String())
	f.mu.Lock()
	if f.cancel != nil {
		f.cancel()
	}
	f.mu.Unlock()
	if c != nil {
		c.Forget(refOf(f.key))
	}
	g.log.WithField("service", f.key.String()).Info("no longer following an unknown service nobody asks for")
}

// tickLoop measures staleness (logging when it crosses stale-warn-after
// and when servers answer again) and drops idle on-demand follows.
func (g *gateway) tickLoop() {
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-t.C:
			g.tick(time.Now())
		}
	}
}

func (g *gateway) tick(now time.Time) {
	g.tickMu.Lock()
	defer g.tickMu.Unlock()
	last := g.lastContact()
	if now.Sub(last) > min(probeAfter, g.cfg.StaleWarnAfter/2) {
		if c := g.client(g.cfg.Namespace); c != nil {
			ctx, cancel := context.WithTimeout(g.ctx, g.cfg.RequestTimeout)
			c.ServerHealthy(ctx)
			cancel()
			last = g.lastContact()
		}
	}
	stale := g.staleness(now, last)
	switch {
	case stale >= g.cfg.StaleWarnAfter && !g.staleWarned:
		g.staleWarned = true
		g.log.WithField("staleSeconds", int(stale.Seconds())).Warn("no server has answered: DNS answers come from memory and may be stale")
	case stale < g.cfg.StaleWarnAfter && g.staleWarned:
		g.staleWarned = false
		g.log.Info("servers answer again")
	}
	g.asked.DeleteExpired()
	g.missed.DeleteExpired()
	g.mu.Lock()
	var idle []*follow
	for _, f := range g.follows {
		if _, recent := g.asked.Get(f.key.String()); f.onDemand && !recent {
			if _, held := g.mirror.Service(f.key); !held {
				idle = append(idle, f)
			}
		}
	}
	g.mu.Unlock()
	for _, f := range idle {
		g.unfollow(f)
	}
}

// lastContact is the last time any server answered any client.
func (g *gateway) lastContact() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	var last time.Time
	for _, c := range g.clients {
		if t := c.LastServerContact(); t.After(last) {
			last = t
		}
	}
	return last
}

// staleness is the time since a server last answered (since the start
// when none has).
func (g *gateway) staleness(now, last time.Time) time.Duration {
	if last.IsZero() {
		last = g.start
	}
	return max(now.Sub(last), 0)
}
