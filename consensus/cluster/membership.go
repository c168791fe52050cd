package cluster

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// Transport carries reports to other members. Report tells peer that
// r.From is alive, which live set it sees and which members it reaches; it
// returns once the peer has taken the report. An error wrapping ErrRefused
// means nothing listens at peer. Report must honour ctx.
type Transport interface {
	Report(ctx context.Context, peer string, r Report) error
}

// Report is what a member tells every other member each ReportInterval.
type Report struct {
	From string
	// Hash digests the sender's live set.
	Hash uint64
	// Live is the sender's live set, Reach the members it reaches both
	// ways (its reports reach them and theirs reach it lately; not DOWN by
	// its own evidence). Both are empty from a member of
	// an older version, which sends only From and Hash.
	Live  []string `json:"live,omitempty"`
	Reach []string `json:"reach,omitempty"`
	// Progress is the sender's Config.Progress; 0 from a member of an
	// older version.
	Progress uint64 `json:"progress,omitempty"`
}

// Membership is this node's view of the cluster. All methods are safe for
// concurrent use.
type Membership struct {
	cfg  Config
	t    Transport
	log  *logrus.Entry
	now  func() time.Time
	self string
	born time.Time // when New ran, on now: see refreshLocked

	mu    sync.Mutex
	peers map[string]*peer // every configured member but self
	stamp fileStamp        // of File when it was last read
	view  atomic.Pointer[view]

	wmu      sync.Mutex
	watchers map[int]func()
	nextW    int

	life      sync.Mutex
	started   bool
	stop      chan struct{}
	kick      chan struct{} // asks for a report round now: the live set changed
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// view is an immutable live set, its hash, and whether this node may
// judge by it (Agreed).
type view struct {
	live   []string
	hash   uint64
	agreed bool
	// leaseUntil ends agreed (this node's clock, monotonic) unless a
	// majority takes a newer report; zero when no peer's word is needed.
	leaseUntil time.Time
}

// New builds a Membership from cfg, reading cfg.File if set. It fails when
// the list is bad or does not hold cfg.Self. A nil log discards log lines.
func New(cfg Config, t Transport, log *logrus.Entry) (*Membership, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if t == nil {
		return nil, errors.New("cluster: a transport is required")
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	self, _ := NormalizeAddr(cfg.Self)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Membership{
		cfg:      cfg,
		t:        t,
		log:      log.WithField("component", "cluster"),
		now:      cfg.Now,
		born:     cfg.Now(),
		self:     self,
		peers:    map[string]*peer{},
		watchers: map[int]func(){},
		stop:     make(chan struct{}),
		kick:     make(chan struct{}, 1),
	}
	var list []string
	var err error
	if cfg.File != "" {
		list, m.stamp, err = readConf(cfg.File)
	} else {
		list, err = ParseMembers(cfg.Members)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if err := m.setList(list); err != nil {
		return nil, err
	}
	return m, nil
}

// Self returns this node's normalized address.
func (m *Membership) Self() string { return m.self }

// Live returns the members that are not DOWN, sorted; it always holds Self.
func (m *Membership) Live() []string { return slices.Clone(m.view.Load().live) }

// Hash returns a digest of Live.
func (m *Membership) Hash() uint64 { return m.view.Load().hash }

// Agreed reports whether this node's view is one it may act on alone:
// Live holds a majority of the configured members, every member this node
// reaches reported, within the last few report intervals, the same live
// set, and a majority (this node and members reporting that set) took one
// of this node's reports sent within Config.Lease. A node that is cut off
// with a minority, or whose peers see the cluster otherwise, is not
// agreed; the beat checker then judges nothing.
//
// The lease is what keeps two nodes from judging one service at once: a
// member takes this node's services over only after counting it DOWN,
// which needs Config.DownTime without a successful exchange, and every
// report this node counts was taken by its peer, so that peer's time
// without an exchange started no earlier than the report was sent. Lease
// is shorter than DownTime and both are measured on each node's own
// clock, so the cut-off node stops first whatever the clocks read. The
// lease is checked on every call, not when reports come back, so a node
// whose reports hang stops on time.
func (m *Membership) Agreed() bool {
	v := m.view.Load()
	return v.agreed && (v.leaseUntil.IsZero() || m.now().Before(v.leaseUntil))
}

// AllReachable reports whether this node's own reports reach every other
// configured member (all UP). The beat checker holds back mass removals
// otherwise (self-preservation).
func (m *Membership) AllReachable() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.peers {
		if p.state != naming.MemberUp {
			return false
		}
	}
	return true
}

// PeerLive returns the live set peer last reported, if its hash is hash.
func (m *Membership) PeerLive(peer string, hash uint64) ([]string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.peers[peer]
	if !ok || p.live == nil || p.hash != hash {
		return nil, false
	}
	return slices.Clone(p.live), true
}

// PeerProgress returns the progress peer stated in its last report (its
// Config.Progress), 0 when it stated none.
func (m *Membership) PeerProgress(peer string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.peers[peer]; ok {
		return p.progress
	}
	return 0
}

// Members returns every configured member with its state, sorted by
// address; a member that takes this node's reports but has sent none for
// DownTime is shown DOWN, as Live counts it.
func (m *Membership) Members() []naming.Member {
	m.mu.Lock()
	now := m.now().UnixMilli()
	out := make([]naming.Member, 0, len(m.peers)+1)
	out = append(out, naming.Member{Address: m.self, State: naming.MemberUp, Self: true, LastSeen: now})
	for addr, p := range m.peers {
		state := p.state
		if state != naming.MemberDown && !m.reachedLocked(p, now) {
			state = naming.MemberDown // it takes our reports but sends none
		}
		out = append(out, naming.Member{Address: addr, State: state, LastSeen: p.lastSeen, FailCount: p.fails})
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// Watch registers fn to run after every change of Live or of the
// configured list. fn runs on the goroutine that saw the change and must
// not block. The returned function unregisters fn.
func (m *Membership) Watch(fn func()) (cancel func()) {
	m.wmu.Lock()
	id := m.nextW
	m.nextW++
	m.watchers[id] = fn
	m.wmu.Unlock()
	return func() {
		m.wmu.Lock()
		delete(m.watchers, id)
		m.wmu.Unlock()
	}
}

func (m *Membership) notify() {
	m.wmu.Lock()
	ids := make([]int, 0, len(m.watchers))
	for id := range m.watchers {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	fns := make([]func(), 0, len(ids))
	for _, id := range ids {
		fns = append(fns, m.watchers[id])
	}
	m.wmu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// setList replaces the configured list: new members start DOWN, removed
// ones are forgotten. It fails, changing nothing, when self is missing.
func (m *Membership) setList(list []string) error {
	if !slices.Contains(list, m.self) {
		return fmt.Errorf("cluster: self address %s is not in the member list %v", m.self, list)
	}
	m.mu.Lock()
	keep := make(map[string]*peer, len(list))
	for _, a := range list {
		if a == m.self {
			continue
		}
		if p, ok := m.peers[a]; ok {
			keep[a] = p
		} else {
			keep[a] = &peer{state: naming.MemberDown}
		}
	}
	m.peers = keep
	m.refreshLocked()
	m.mu.Unlock()
	return nil
}

// refreshLocked recomputes the live view; it reports whether the live set
// changed. The caller holds m.mu.
//
// A member is live when this node's reports reach it, or when a member
// this node reaches, and heard from recently, reports reaching it: a link
// cut between two members leaves both live in every view (a third member
// still sees both), so views stay equal and each service keeps one owner.
// A member nobody reachable reaches is DOWN.
func (m *Membership) refreshLocked() bool {
	now := m.now().UnixMilli()
	fresh := m.freshness().Milliseconds()
	live := []string{m.self}
	for a, p := range m.peers {
		if m.reachedLocked(p, now) || m.vouchedLocked(a, now, fresh) {
			live = append(live, a)
		}
	}
	sort.Strings(live)
	hash := hashOf(live)
	// A majority of the members that may be running: one whose port
	// refused our last report has no process, so it cannot be judging on
	// another side (a 2-node cluster whose peer stopped still judges).
	voters := len(m.peers) + 1
	for _, p := range m.peers {
		if p.refused {
			voters--
		}
	}
	agreed := 2*len(live) > voters
	young := m.now().Sub(m.born) < m.cfg.DownTime()
	for a, p := range m.peers {
		if !agreed {
			break
		}
		if young && !p.refused && p.seen.IsZero() && !slices.Contains(live, a) {
			// Not reached since this node started, and counted DOWN at
			// once: it may still hold a lease a report of this node's
			// previous run granted, so no judging without it before
			// DownTime has passed.
			agreed = false
			break
		}
		if !m.reachedLocked(p, now) || !slices.Contains(live, a) {
			continue
		}
		// A member this node reaches must have said lately that it sees
		// the same live set.
		agreed = p.heard != 0 && now-p.heard <= fresh && p.hash == hash
	}
	var until time.Time
	if agreed {
		until, agreed = m.leaseLocked(live, hash, voters)
	}
	old := m.view.Load()
	if old != nil && slices.Equal(old.live, live) {
		if old.agreed != agreed || !old.leaseUntil.Equal(until) {
			m.view.Store(&view{live: old.live, hash: old.hash, agreed: agreed, leaseUntil: until})
		}
		return false
	}
	m.view.Store(&view{live: live, hash: hash, agreed: agreed, leaseUntil: until})
	return true
}

// leaseLocked returns until when this node holds a majority's word for
// the live set hash: with this node, voters/2 live members reporting hash
// must have taken a report of ours; the lease runs Config.Lease from the
// send of the oldest report needed. It reports false when too few took
// one; a zero time when no peer's word is needed (a lone voter). The
// caller holds m.mu.
func (m *Membership) leaseLocked(live []string, hash uint64, voters int) (time.Time, bool) {
	need := voters / 2
	if need == 0 {
		return time.Time{}, true
	}
	var sent []time.Time
	for a, p := range m.peers {
		if !p.okSent.IsZero() && p.hash == hash && slices.Contains(live, a) {
			sent = append(sent, p.okSent)
		}
	}
	if len(sent) < need {
		return time.Time{}, false
	}
	slices.SortFunc(sent, func(a, b time.Time) int { return b.Compare(a) })
	return sent[need-1].Add(m.cfg.Lease()), true
}

// reachedLocked reports whether this node reaches member p both ways: its
// own reports reach p (not DOWN), and p's reports reached this node within
// DownTime (or DownTime has not passed since this node started). A member
// that takes reports but sends none (its outbound traffic cut, its local
// ports exhausted) cannot sync or forward either: it counts as DOWN, on
// the same clock as a silent one, DownTime after the last report of its
// this node took, and its own lease (Agreed) has ended before that. The
// caller holds m.mu.
func (m *Membership) reachedLocked(p *peer, now int64) bool {
	return p.state != naming.MemberDown && now-max(p.heard, m.born.UnixMilli()) <= m.cfg.DownTime().Milliseconds()
}

// vouchedLocked reports whether a member this node reaches, heard from
// within fresh, says it reaches addr.
func (m *Membership) vouchedLocked(addr string, now, fresh int64) bool {
	for b, q := range m.peers {
		if b != addr && q.state != naming.MemberDown && q.heard != 0 && now-q.heard <= fresh && slices.Contains(q.reach, addr) {
			return true
		}
	}
	return false
}

// freshness is how long a member's report counts as its current word:
// long enough to cover a few lost reports, short enough that a member
// that went away stops vouching for others within a few intervals.
func (m *Membership) freshness() time.Duration {
	return time.Duration(m.cfg.DownAfter+1) * m.cfg.ReportInterval
}

// reachLocked lists the members this node's own reports reach, itself
// included. The caller holds m.mu.
func (m *Membership) reachLocked() []string {
	out := []string{m.self}
	now := m.now().UnixMilli()
	for a, p := range m.peers {
		if m.reachedLocked(p, now) {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// hashOf digests a sorted address list.
func hashOf(live []string) uint64 {
	h := fnv.New64a()
	for _, a := range live {
		h.Write([]byte(a))
		h.Write([]byte{'\n'})
	}
	return h.Sum64()
}

// fileStamp identifies one version of a file.
type fileStamp struct {
	mod  time.Time
	size int64
}

func readConf(path string) ([]string, fileStamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileStamp{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fileStamp{}, err
	}
	list, err := ParseClusterConf(f)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("%s: %w", path, err)
	}
	return list, fileStamp{mod: st.ModTime(), size: st.Size()}, nil
}
