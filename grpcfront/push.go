package grpcfront

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"sextant/naming"
)

// subKey is one subscription: a service and the clusters string the client
// asked with (echoed in every serviceInfo it gets).
type subKey struct {
	svc      naming.ServiceKey
	clusters string
}

type subEntry struct {
	c        *conn
	clusters string
}

// subIndex finds the subscribers of a service. Its lock is held only to
// read or change the index, never while rendering or sending.
type subIndex struct {
	mu sync.RWMutex
	m  map[naming.ServiceKey]map[subEntry]struct{}
	n  int
}

func newSubIndex() *subIndex { return &subIndex{m: map[naming.ServiceKey]map[subEntry]struct{}{}} }

func (x *subIndex) add(k subKey, c *conn) {
	x.mu.Lock()
	defer x.mu.Unlock()
	set := x.m[k.svc]
	if set == nil {
		set = map[subEntry]struct{}{}
		x.m[k.svc] = set
	}
	e := subEntry{c, k.clusters}
	if _, ok := set[e]; !ok {
		set[e] = struct{}{}
		x.n++
	}
}

func (x *subIndex) remove(k subKey, c *conn) {
	x.mu.Lock()
	defer x.mu.Unlock()
	set := x.m[k.svc]
	e := subEntry{c, k.clusters}
	if _, ok := set[e]; ok {
		delete(set, e)
		x.n--
		if len(set) == 0 {
			delete(x.m, k.svc)
		}
	}
}

func (x *subIndex) has(svc naming.ServiceKey) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.m[svc]) > 0
}

func (x *subIndex) of(svc naming.ServiceKey) []subEntry {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]subEntry, 0, len(x.m[svc]))
	for e := range x.m[svc] {
		out = append(out, e)
	}
	return out
}

func (x *subIndex) count() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

// subscribeConn subscribes c to k, within MaxSubscriptionsPerConn.
func (s *Server) subscribeConn(c *conn, k subKey) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return errConnEnded
	}
	if !c.subs.has(k) && c.subs.len() >= s.cfg.MaxSubscriptionsPerConn {
		return naming.Errorf(naming.ErrTooLarge, "too many subscriptions on one connection: the limit is %d", s.cfg.MaxSubscriptionsPerConn)
	}
	c.subs.add(k)
	s.subs.add(k, c)
	return nil
}

func (s *Server) unsubscribeConn(c *conn, k subKey) {
	c.mu.Lock()
	c.subs.remove(k)
	s.subs.remove(k, c)
	c.mu.Unlock()
	c.out.drop(k)
}

// refTimes hands out lastRefTime values: per service, the wall clock in
// milliseconds, but always greater than the last one handed out, so that
// every answer and push a client gets for a service is newer than the one
// before (clients drop the others).
type refTimes struct {
	mu   sync.Mutex
	last map[naming.ServiceKey]int64
}

func newRefTimes() *refTimes { return &refTimes{last: map[naming.ServiceKey]int64{}} }

func (r *refTimes) next(k naming.ServiceKey, now int64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := max(now, r.last[k]+1)
	r.last[k] = v
	return v
}

// prune forgets values the clock has passed: next gives more anyway.
func (r *refTimes) prune(now int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range r.last {
		if v < now {
			delete(r.last, k)
		}
	}
}

// render builds the serviceInfo of a service as this node sees it now:
// the enabled instances of the clusters asked for (all when none), all of
// them healthy or not unless healthyOnly; when the protect threshold is
// reached every enabled instance is listed as healthy.
func (s *Server) render(key naming.ServiceKey, clusters string, healthyOnly bool) *serviceInfo {
	info := &serviceInfo{Name: key.Name, GroupName: key.Group, Clusters: clusters,
		CacheMillis: s.cfg.CacheMillis, Hosts: []outHost{}, Valid: true}
	if svc, ok := s.r.Service(key); ok {
		sel := svc.Select(splitClusters(clusters), healthyOnly)
		grouped := key.Grouped()
		for _, in := range sel.Instances {
			info.Hosts = append(info.Hosts, hostOf(in, key, grouped, in.Healthy || sel.Protected))
		}
		info.Checksum = svc.Checksum
		info.ReachProtectionThreshold = sel.Protected
	}
	info.LastRefTime = s.refs.next(key, s.now().UnixMilli())
	return info
}

func splitClusters(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// rendered is a push, encoded once and sent as is to every subscriber of
// one (service, clusters): the whole Payload message, with the requestId
// id. A connection never gets one requestId twice (a resend gets a new
// one, patched into a copy), which is all an ack needs to be matched: acks
// are matched per connection.
type rendered struct {
	id    string
	frame *Payload // raw
	idAt  int      // offset of the requestId's digits in frame.raw
}

func (s *Server) renderPush(key naming.ServiceKey, clusters string) *rendered {
	info := s.render(key, clusters, false)
	id := s.nextID()
	body, _ := json.Marshal(notifyRequest{RequestID: id, Module: "naming", Namespace: key.Namespace,
		ServiceName: key.Name, GroupName: key.Group, ServiceInfo: info})
	raw := (&Payload{Type: typeNotifySubscriber, Body: body}).marshal()
	// The body is the message's tail and starts with {"requestId":"<id>".
	at := len(raw) - len(body) + len(`{"requestId":"`)
	return &rendered{id: id, frame: &Payload{raw: raw}, idAt: at}
}

// encodePush returns the push of r with requestId id (idWidth digits,
// from nextID): r's own encoding when id is r's.
func (s *Server) encodePush(id string, r *rendered) *Payload {
	if id == r.id {
		return r.frame
	}
	b := append([]byte(nil), r.frame.raw...)
	copy(b[r.idAt:r.idAt+idWidth], id)
	return &Payload{raw: b}
}

// pushQueue holds the services waiting for a push: the first change after
// a quiet spell is due at once, changes within PushMergeDelay of a push
// are merged into the next one.
type pushQueue struct {
	mu      sync.Mutex
	dirty   map[naming.ServiceKey]time.Time // when due
	noticed map[naming.ServiceKey]time.Time // first change not pushed yet
	last    map[naming.ServiceKey]time.Time // last push
}

func newPushQueue() *pushQueue {
	return &pushQueue{dirty: map[naming.ServiceKey]time.Time{}, noticed: map[naming.ServiceKey]time.Time{},
		last: map[naming.ServiceKey]time.Time{}}
}

// changed is the catalog's Watch callback: it only marks the service.
func (s *Server) changed(key naming.ServiceKey) {
	if !s.subs.has(key) {
		return
	}
	now := s.now()
	q := s.push
	q.mu.Lock()
	if _, ok := q.dirty[key]; !ok {
		at := now
		if next := q.last[key].Add(s.cfg.PushMergeDelay); next.After(at) {
			at = next
		}
		q.dirty[key] = at
		q.noticed[key] = now
	}
	q.mu.Unlock()
}

type duePush struct {
	key     naming.ServiceKey
	noticed time.Time
}

// due takes the services whose push is due at now.
func (q *pushQueue) due(now time.Time, merge time.Duration) []duePush {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []duePush
	for k, at := range q.dirty {
		if at.After(now) {
			continue
		}
		out = append(out, duePush{k, q.noticed[k]})
		delete(q.dirty, k)
		delete(q.noticed, k)
		q.last[k] = now
	}
	for k, t := range q.last {
		if now.Sub(t) > merge {
			if _, waiting := q.dirty[k]; !waiting {
				delete(q.last, k)
			}
		}
	}
	return out
}

// pushTick is how often due pushes are looked for.
const pushTick = 10 * time.Millisecond

func (s *Server) pushLoop() {
	defer s.wg.Done()
	t := time.NewTicker(pushTick)
	defer t.Stop()
	prune := time.NewTicker(time.Minute)
	defer prune.Stop()
	resend := time.NewTicker(s.resendTick())
	defer resend.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-prune.C:
			s.refs.prune(s.now().UnixMilli())
		case <-resend.C:
			s.resendOverdue(s.now())
		case <-t.C:
			for _, d := range s.push.due(s.now(), s.cfg.PushMergeDelay) {
				s.pushService(d.key, d.noticed)
			}
		}
	}
}

// pushService renders a service once per clusters string and queues the
// render on every subscribed connection.
func (s *Server) pushService(key naming.ServiceKey, noticed time.Time) {
	byClusters := map[string]*rendered{}
	for _, e := range s.subs.of(key) {
		r := byClusters[e.clusters]
		if r == nil {
			r = s.renderPush(key, e.clusters)
			byClusters[e.clusters] = r
		}
		e.c.out.push(subKey{svc: key, clusters: e.clusters}, &pushItem{r: r, noticed: noticed})
	}
}
