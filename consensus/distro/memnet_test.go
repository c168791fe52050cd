package distro

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"sync"
	"time"

	"sextant/consensus/cluster"
	"sextant/naming"
)

// Network is an in-memory network of Distro nodes for tests: each node
// registers its Handler (and its membership, to receive reports) under its
// address, and sends through Transport(addr) and Reporter(addr). Every
// message is encoded and decoded as the HTTP transport does: forwards and
// syncs in the compact encoding, the rest as JSON. Links can be cut
// (Partition, Isolate), distro messages dropped at random (Drop) and all
// messages delayed (Delay), forwards held and delivered after their sender
// gave up (Hold, Release). A cut link fails at once, or, with
// Blackhole(true), hangs until the caller's context ends. An address with
// nothing registered refuses connections (cluster.ErrRefused).
type Network struct {
	mu        sync.Mutex
	handlers  map[string]Handler
	members   map[string]ReportReceiver
	cut       map[[2]string]bool
	isolated  map[string]bool
	drop      float64
	rng       *rand.Rand
	delay     time.Duration
	blackhole bool
	// hangFrom makes cut links hang for messages these nodes send (see
	// BlackholeFrom).
	hangFrom  map[string]bool
	failFetch bool
	// held links keep forward messages (see Hold); late holds them.
	held map[[2]string]bool
	late []func()
}

// ReportReceiver takes membership reports. *cluster.Membership satisfies it.
type ReportReceiver interface {
	HandleReport(r cluster.Report) error
}

// Errors of the in-memory network.
var (
	ErrUnreachable = errors.New("memnet: unreachable")
	ErrDropped     = errors.New("memnet: message dropped")
)

// NewNetwork returns a fully connected network; seed drives Drop.
func NewNetwork(seed int64) *Network {
	return &Network{
		handlers: map[string]Handler{},
		members:  map[string]ReportReceiver{},
		cut:      map[[2]string]bool{},
		isolated: map[string]bool{},
		rng:      rand.New(rand.NewSource(seed)),
	}
}

// Register delivers distro messages for addr to h.
func (n *Network) Register(addr string, h Handler) {
	n.mu.Lock()
	n.handlers[addr] = h
	n.mu.Unlock()
}

// RegisterMember delivers membership reports for addr to r.
func (n *Network) RegisterMember(addr string, r ReportReceiver) {
	n.mu.Lock()
	n.members[addr] = r
	n.mu.Unlock()
}

// Unregister removes addr, as if its process stopped: calls to it are refused.
func (n *Network) Unregister(addr string) {
	n.mu.Lock()
	delete(n.handlers, addr)
	delete(n.members, addr)
	n.mu.Unlock()
}

// Partition cuts every link between a member of a and a member of b.
func (n *Network) Partition(a, b []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, x := range a {
		for _, y := range b {
			n.cut[[2]string{x, y}] = true
			n.cut[[2]string{y, x}] = true
		}
	}
}

// CutOutbound fails every message addr sends, while messages to addr and
// their answers still pass: a node that can take connections but cannot
// open any (its outbound traffic filtered, its local ports exhausted).
func (n *Network) CutOutbound(addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for to := range n.members {
		if to != addr {
			n.cut[[2]string{addr, to}] = true
		}
	}
}

// Isolate cuts addr off from every other node.
func (n *Network) Isolate(addr string) {
	n.mu.Lock()
	n.isolated[addr] = true
	n.mu.Unlock()
}

// Heal restores every cut and isolated link.
func (n *Network) Heal() {
	n.mu.Lock()
	clear(n.cut)
	clear(n.isolated)
	n.mu.Unlock()
}

// Drop loses each distro message with probability p. Membership reports
// are not dropped: only cut links make members DOWN.
func (n *Network) Drop(p float64) {
	n.mu.Lock()
	n.drop = p
	n.mu.Unlock()
}

// Delay holds every message for d before delivery.
func (n *Network) Delay(d time.Duration) {
	n.mu.Lock()
	n.delay = d
	n.mu.Unlock()
}

// FailFetches makes every Fetch fail (as a fetch of a large record that
// times out would), while other messages pass.
func (n *Network) FailFetches(on bool) {
	n.mu.Lock()
	n.failFetch = on
	n.mu.Unlock()
}

// Hold makes forward messages from → to hang until their sender's context
// ends, as on a link that lost every packet, and keeps them: Release
// delivers them afterwards, as TCP delivers a request its sender gave up
// on once the link works again.
func (n *Network) Hold(from, to string) {
	n.mu.Lock()
	if n.held == nil {
		n.held = map[[2]string]bool{}
	}
	n.held[[2]string{from, to}] = true
	n.mu.Unlock()
}

// Release ends every Hold and delivers the messages held, in the order
// sent; it returns how many it delivered.
func (n *Network) Release() int {
	n.mu.Lock()
	late := n.late
	n.late, n.held = nil, nil
	n.mu.Unlock()
	for _, deliver := range late {
		deliver()
	}
	return len(late)
}

// holding reports whether forwards from → to are held.
func (n *Network) holding(from, to string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.held[[2]string{from, to}]
}

// Blackhole makes cut links hang until the caller's context ends instead
// of failing at once, like a peer that stopped answering.
func (n *Network) Blackhole(on bool) {
	n.mu.Lock()
	n.blackhole = on
	n.mu.Unlock()
}

// BlackholeFrom makes cut links hang, until the caller's context ends,
// for messages addr sends, while messages to addr still fail at once: a
// node whose own reports get no answer for a while, when its peers learn
// at once that it is gone.
func (n *Network) BlackholeFrom(addr string) {
	n.mu.Lock()
	if n.hangFrom == nil {
		n.hangFrom = map[string]bool{}
	}
	n.hangFrom[addr] = true
	n.mu.Unlock()
}

// route decides the fate of one message from → to.
func (n *Network) route(ctx context.Context, from, to string, distro bool) (Handler, ReportReceiver, error) {
	n.mu.Lock()
	h, r := n.handlers[to], n.members[to]
	reachable := !n.isolated[from] && !n.isolated[to] && !n.cut[[2]string{from, to}]
	dropped := distro && n.drop > 0 && n.rng.Float64() < n.drop
	delay, blackhole := n.delay, n.blackhole || n.hangFrom[from]
	n.mu.Unlock()
	if !reachable {
		if blackhole {
			<-ctx.Done()
			return nil, nil, fmt.Errorf("%s → %s: %w", from, to, ctx.Err())
		}
		return nil, nil, fmt.Errorf("%s → %s: %w", from, to, ErrUnreachable)
	}
	if (distro && h == nil) || (!distro && r == nil) {
		return nil, nil, fmt.Errorf("%s → %s: %w", from, to, cluster.ErrRefused)
	}
	if dropped {
		return nil, nil, fmt.Errorf("%s → %s: %w", from, to, ErrDropped)
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("%s → %s: %w", from, to, ctx.Err())
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return h, r, nil
}

// Transport returns the distro transport of the node at self.
func (n *Network) Transport(self string) Transport { return &memTransport{n: n, self: self} }

// Reporter returns the membership transport of the node at self.
func (n *Network) Reporter(self string) cluster.Transport { return &memReporter{n: n, self: self} }

type memReporter struct {
	n    *Network
	self string
}

func (m *memReporter) Report(ctx context.Context, peer string, rep cluster.Report) error {
	_, r, err := m.n.route(ctx, m.self, peer, false)
	if err != nil {
		return err
	}
	rep.From = m.self
	rep.Live, rep.Reach = slices.Clone(rep.Live), slices.Clone(rep.Reach)
	return r.HandleReport(rep)
}

type memTransport struct {
	n    *Network
	self string
}

// viaJSON copies v through its JSON encoding.
func viaJSON[T any](v T) (T, error) {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		return out, err
	}
	err = json.Unmarshal(b, &out)
	return out, err
}

// answer passes a handler's error through its wire form.
func answer(err error) error {
	if err == nil {
		return nil
	}
	_, b := encodeError(err)
	b, _ = viaJSON(b)
	return decodeError(b)
}

func (m *memTransport) ForwardBatch(ctx context.Context, peer string, hash uint64, ops []naming.Op) ([]error, error) {
	return m.writes(ctx, peer, ops, func(h Handler, in []naming.Op) ([]error, error) {
		if m.n.holding(m.self, peer) {
			m.n.mu.Lock()
			m.n.late = append(m.n.late, func() { _, _ = h.OnForwardBatch(context.Background(), m.self, hash, in) })
			m.n.mu.Unlock()
			<-ctx.Done()
			return nil, fmt.Errorf("%s → %s: %w", m.self, peer, ctx.Err())
		}
		return h.OnForwardBatch(ctx, m.self, hash, in)
	})
}

func (m *memTransport) RelayForward(ctx context.Context, via, peer string, hash uint64, ops []naming.Op) ([]error, error) {
	return m.writes(ctx, via, ops, func(h Handler, in []naming.Op) ([]error, error) {
		return h.OnRelayForward(ctx, m.self, peer, hash, in)
	})
}

// writes carries ops to the node at to through their compact encoding,
// hands them to deliver and brings its answers back the same way.
func (m *memTransport) writes(ctx context.Context, to string, ops []naming.Op, deliver func(Handler, []naming.Op) ([]error, error)) ([]error, error) {
	h, _, err := m.n.route(ctx, m.self, to, true)
	if err != nil {
		return nil, err
	}
	b, err := appendOps(nil, ops)
	if err != nil {
		return nil, err
	}
	in, err := decodeOps(b)
	if err != nil {
		return nil, err
	}
	errs, err := deliver(h, in)
	if err != nil {
		var ne *naming.Error
		if errors.As(err, &ne) {
			return nil, answer(err)
		}
		return nil, err
	}
	return decodeResults(appendResults(nil, errs))
}

func (m *memTransport) Sync(ctx context.Context, peer string, hash uint64, recs []Record) error {
	return m.records(ctx, peer, recs, func(h Handler, in []Record) error { return h.OnSync(ctx, m.self, hash, in) })
}

func (m *memTransport) Relay(ctx context.Context, via, peer string, hash uint64, recs []Record) error {
	return m.records(ctx, via, recs, func(h Handler, in []Record) error { return h.OnRelay(ctx, m.self, peer, hash, in) })
}

// records carries recs to the node at to through their compact encoding
// and hands them to deliver.
func (m *memTransport) records(ctx context.Context, to string, recs []Record, deliver func(Handler, []Record) error) error {
	h, _, err := m.n.route(ctx, m.self, to, true)
	if err != nil {
		return err
	}
	in, err := decodeRecords(appendRecords(nil, recs))
	if err != nil {
		return err
	}
	return answer(deliver(h, in))
}

func (m *memTransport) Verify(ctx context.Context, peer string, hash uint64, sums map[naming.ServiceKey]string) ([]naming.ServiceKey, error) {
	h, _, err := m.n.route(ctx, m.self, peer, true)
	if err != nil {
		return nil, err
	}
	in, err := viaJSON(sumsToWire(sums))
	if err != nil {
		return nil, err
	}
	keys, err := h.OnVerify(ctx, m.self, hash, sumsFromWire(in))
	if err != nil {
		return nil, answer(err)
	}
	out, err := viaJSON(keysBody{Keys: keys})
	return out.Keys, err
}

func (m *memTransport) Fetch(ctx context.Context, peer string, hash uint64, keys []naming.ServiceKey) ([]Record, error) {
	h, _, err := m.n.route(ctx, m.self, peer, true)
	if err != nil {
		return nil, err
	}
	m.n.mu.Lock()
	fail := m.n.failFetch
	m.n.mu.Unlock()
	if fail {
		return nil, fmt.Errorf("%s → %s: fetch: %w", m.self, peer, ErrDropped)
	}
	in, err := viaJSON(keysBody{Keys: keys})
	if err != nil {
		return nil, err
	}
	recs, err := h.Records(ctx, m.self, hash, in.Keys)
	if err != nil {
		return nil, answer(err)
	}
	out, err := viaJSON(syncBody{Records: recs})
	return out.Records, err
}

func (m *memTransport) Snapshot(ctx context.Context, peer string) ([]Record, error) {
	h, _, err := m.n.route(ctx, m.self, peer, true)
	if err != nil {
		return nil, err
	}
	recs, err := h.All(ctx, m.self)
	if err != nil {
		return nil, answer(err)
	}
	out, err := viaJSON(syncBody{Records: recs})
	return out.Records, err
}
