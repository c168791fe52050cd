package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/internal/life"
	"sextant/naming"
)

// Watcher is the part of naming.Reader the pusher needs.
type Watcher interface {
	Watch(fn func(naming.ServiceKey)) (cancel func())
}

// Render returns the instance/list JSON a subscriber of key with the given
// clusters string and User-Agent should receive, or nil to skip the push.
type Render func(key naming.ServiceKey, clusters, agent string) []byte

// Pusher keeps the subscribers and sends them pushes.
type Pusher struct {
	cfg    Config
	w      Watcher
	render Render
	log    *logrus.Entry
	reg    *registry
	stats  counters
	seq    atomic.Int64

	dmu   sync.Mutex
	dirty map[naming.ServiceKey]time.Time // service → when its push is due
	// last holds when each service was last pushed, for MergeDelay: the
	// first change after a quiet spell goes out at once, and the changes
	// that follow within MergeDelay of a push are merged into the next one.
	last map[naming.ServiceKey]time.Time

	amu     sync.Mutex
	pending map[ackKey]*inflight
	bySub   map[subKey]ackKey

	mu          sync.Mutex // guards the lifecycle fields below
	conn        *net.UDPConn
	cancelWatch func()
	done        chan struct{}
	life        life.State
	wg          sync.WaitGroup
}

// New returns a pusher; it sends nothing until Start.
func New(cfg Config, w Watcher, render Render, log *logrus.Entry) (*Pusher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if w == nil || render == nil {
		return nil, errors.New("push needs a watcher and a render function")
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	p := &Pusher{
		cfg:     cfg,
		w:       w,
		render:  render,
		log:     log.WithField("component", "push"),
		reg:     newRegistry(cfg.MaxSubscribers, cfg.SubscriberTTL),
		dirty:   map[naming.ServiceKey]time.Time{},
		last:    map[naming.ServiceKey]time.Time{},
		pending: map[ackKey]*inflight{},
		bySub:   map[subKey]ackKey{},
		done:    make(chan struct{}),
	}
	p.reg.maxTarget, p.reg.maxSource = cfg.MaxPerTarget, cfg.MaxPerSource
	// Sequence numbers start at the wall clock in nanoseconds, so they also
	// increase across restarts.
	p.seq.Store(time.Now().UnixNano())
	return p, nil
}

// Enabled reports whether the pusher accepts subscriptions.
func (p *Pusher) Enabled() bool { return p.cfg.Enabled }

// Start binds the UDP socket, starts watching the catalog and starts the
// push and ack loops. ctx bounds only the start itself. When push is
// disabled, Start does nothing.
func (p *Pusher) Start(ctx context.Context) error {
	if !p.cfg.Enabled {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.life.CanStart("push"); err != nil {
		return err
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", p.cfg.Listen)
	if err != nil {
		return fmt.Errorf("push: listen %s: %w", p.cfg.Listen, err)
	}
	p.conn = pc.(*net.UDPConn)
	p.life.Started()
	p.cancelWatch = p.w.Watch(p.changed)
	p.wg.Add(2)
	go p.loop()
	go p.receive()
	p.log.WithField("addr", p.conn.LocalAddr().String()).Info("udp push started")
	return nil
}

// Addr returns the push socket's local address, nil before Start.
func (p *Pusher) Addr() net.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		return nil
	}
	return p.conn.LocalAddr()
}

// Close stops the loops and closes the socket. It is idempotent.
func (p *Pusher) Close() error {
	p.mu.Lock()
	first, started := p.life.End()
	if !first {
		p.mu.Unlock()
		return nil
	}
	var err error
	if started {
		p.cancelWatch()
		close(p.done)
		err = p.conn.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// Subscribe adds or refreshes the subscriber a list request describes and
// returns the address pushes will go to.
func (p *Pusher) Subscribe(s Subscription) (netip.AddrPort, error) {
	if !p.cfg.Enabled {
		return netip.AddrPort{}, ErrDisabled
	}
	addr, source, err := resolveTarget(p.cfg, s)
	if err != nil {
		return netip.AddrPort{}, err
	}
	err = p.reg.add(Subscriber{
		Service:  s.Service,
		Clusters: s.Clusters,
		Addr:     addr,
		Source:   source,
		Agent:    s.Agent,
		App:      s.App,
		LastSeen: time.Now(),
	})
	return addr, err
}

// Subscribers returns the live subscribers of a service.
func (p *Pusher) Subscribers(key naming.ServiceKey) []Subscriber {
	return p.reg.live(key, time.Now())
}

// Count returns the number of subscribers held (live or not yet swept).
func (p *Pusher) Count() int { return p.reg.count() }

// changed is the catalog's Watch callback: it only marks the service dirty.
func (p *Pusher) changed(key naming.ServiceKey) {
	if !p.reg.has(key) {
		return
	}
	p.dmu.Lock()
	if _, ok := p.dirty[key]; !ok {
		at := time.Now()
		if next := p.last[key].Add(p.cfg.MergeDelay); next.After(at) {
			at = next
		}
		p.dirty[key] = at
	}
	p.dmu.Unlock()
}

// loop sends due pushes, resends unacked ones and drops expired subscribers.
func (p *Pusher) loop() {
	defer p.wg.Done()
	t := time.NewTicker(p.cfg.tick())
	defer t.Stop()
	sweepEvery := p.cfg.SubscriberTTL / 2
	lastSweep := time.Now()
	for {
		select {
		case <-p.done:
			return
		case now := <-t.C:
			for _, key := range p.due(now) {
				p.pushService(key, now)
			}
			p.retransmit(now)
			if now.Sub(lastSweep) >= sweepEvery {
				lastSweep = now
				if n := p.reg.expire(now); n > 0 {
					p.log.WithField("count", n).Debug("dropped silent push subscribers")
				}
			}
		}
	}
}

// due removes and returns the services whose push is due at now.
func (p *Pusher) due(now time.Time) []naming.ServiceKey {
	p.dmu.Lock()
	defer p.dmu.Unlock()
	var out []naming.ServiceKey
	for k, at := range p.dirty {
		if !now.Before(at) {
			out = append(out, k)
			delete(p.dirty, k)
			p.last[k] = now
		}
	}
	for k, at := range p.last {
		if now.Sub(at) > p.cfg.MergeDelay {
			delete(p.last, k) // quiet again: the next change goes out at once
		}
	}
	return out
}

// pushService sends the current data of key to each live subscriber.
func (p *Pusher) pushService(key naming.ServiceKey, now time.Time) {
	subs := p.reg.live(key, now)
	if len(subs) == 0 {
		return
	}
	// One packet per view (clusters, client flavour), shared by all the
	// subscribers of that view: acks are told apart by (address, sequence).
	type view struct{ clusters, agent string }
	type packet struct {
		pkt []byte
		seq int64
	}
	packets := map[view]*packet{}
	for _, s := range subs {
		v := view{s.Clusters, s.Agent}
		pk, ok := packets[v]
		if !ok {
			pk = &packet{}
			packets[v] = pk
			if data := p.render(key, s.Clusters, s.Agent); data != nil {
				pk.seq = p.seq.Add(1)
				pkt, err := encodePacket(data, pk.seq)
				if err != nil {
					p.log.WithError(err).WithField("service", key.String()).Warn("push not sent")
				}
				pk.pkt = pkt
			}
		}
		if pk.pkt == nil {
			if pk.seq != 0 {
				p.stats.failed.Add(1)
			}
			continue
		}
		p.track(subKey{svc: s.Service, addr: s.Addr}, pk.seq, pk.pkt, now)
		p.send(pk.pkt, s.Addr)
	}
}

func (p *Pusher) send(pkt []byte, to netip.AddrPort) {
	if _, err := p.conn.WriteToUDPAddrPort(pkt, to); err != nil {
		p.log.WithError(err).WithField("to", to.String()).Debug("push send failed")
	}
}
