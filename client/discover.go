package client

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"
)

// Poll timing: the server's cacheMillis, kept within these bounds; after
// failures the delay doubles up to maxPollBackoff.
const (
	defaultCacheMillis = 3000
	minPoll            = 200 * time.Millisecond
	maxPoll            = 5 * time.Minute
	maxPollBackoff     = 20 * time.Second
)

// GetService returns the service's instance list: from the failover file
// while failover is on, else the copy held, else (first use) from a
// server, after which the service is held and kept fresh by push and
// polling.
func (c *Client) GetService(ctx context.Context, ref ServiceRef) (Service, error) {
	key, grouped, clusters, err := ref.key()
	if err != nil {
		return Service{}, err
	}
	if c.isClosed() {
		return Service{}, ErrClosed
	}
	if s := c.h.failoverView(key); s != nil {
		return copyService(s), nil
	}
	if e := c.h.get(key); e != nil {
		e.mu.Lock()
		eff := c.h.effective(e)
		e.mu.Unlock()
		if eff != nil {
			return copyService(eff), nil
		}
	}
	e, _ := c.h.getOrCreate(key, grouped, clusters)
	c.ensurePolling(e, -1)
	return c.fetch(ctx, e)
}

// Peek returns the view held of a service without asking a server.
func (c *Client) Peek(ref ServiceRef) (Service, bool) {
	key, _, _, err := ref.key()
	if err != nil {
		return Service{}, false
	}
	if s := c.h.failoverView(key); s != nil {
		return copyService(s), true
	}
	e := c.h.get(key)
	if e == nil {
		return Service{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if eff := c.h.effective(e); eff != nil {
		return copyService(eff), true
	}
	return Service{}, false
}

// Services returns the services held (subscribed, read or loaded from the
// snapshot).
func (c *Client) Services() []ServiceRef {
	var out []ServiceRef
	for _, e := range c.h.all() {
		out = append(out, refOfKey(e.key))
	}
	return out
}

// SelectAllInstances returns every instance listed for the service.
func (c *Client) SelectAllInstances(ctx context.Context, ref ServiceRef) ([]Instance, error) {
	svc, err := c.GetService(ctx, ref)
	if err != nil {
		return nil, err
	}
	return svc.Hosts, nil
}

// SelectInstances returns the enabled instances of positive weight whose
// health is healthy.
func (c *Client) SelectInstances(ctx context.Context, ref ServiceRef, healthy bool) ([]Instance, error) {
	svc, err := c.GetService(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := make([]Instance, 0, len(svc.Hosts))
	for _, in := range svc.Hosts {
		if in.Healthy == healthy && in.Enabled && in.Weight > 0 {
			out = append(out, in)
		}
	}
	return out, nil
}

// SelectOneHealthyInstance picks one healthy, enabled instance of positive
// weight at random, in proportion to the weights (fractional weights
// included).
func (c *Client) SelectOneHealthyInstance(ctx context.Context, ref ServiceRef) (Instance, error) {
	hosts, err := c.SelectInstances(ctx, ref, true)
	if err != nil {
		return Instance{}, err
	}
	in, ok := pickWeighted(hosts, rand.Float64())
	if !ok {
		return Instance{}, fmt.Errorf("client: %s: %w", ref.ServiceName, ErrNoHealthyInstance)
	}
	return in, nil
}

// pickWeighted picks from hosts by weight with r in [0,1): host i is picked
// when r falls in its share of the total. Hosts of weight <= 0 (or NaN) are
// never picked; ok is false when none has a positive weight.
func pickWeighted(hosts []Instance, r float64) (Instance, bool) {
	total := 0.0
	last := -1
	for i, in := range hosts {
		if in.Weight > 0 {
			total += in.Weight
			last = i
		}
	}
	if last < 0 {
		return Instance{}, false
	}
	target := r * total
	acc := 0.0
	for _, in := range hosts {
		if in.Weight > 0 {
			acc += in.Weight
			if target < acc {
				return in, true
			}
		}
	}
	return hosts[last], true
}

// Subscribe calls fn with the service's instance list now (when one is
// held) and after every change, each change once and in order. The
// service is fetched in the background if it is not held yet. The
// returned function ends the subscription; the service stays held (see
// Forget).
func (c *Client) Subscribe(ref ServiceRef, fn func(Service)) (cancel func(), err error) {
	key, grouped, clusters, err := ref.key()
	if err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, fmt.Errorf("client: subscribe %s: callback is nil", key)
	}
	if c.isClosed() {
		return nil, ErrClosed
	}
	e, _ := c.h.getOrCreate(key, grouped, clusters)
	sub := &subscriber{id: c.nextSub.Add(1), fn: fn, log: c.log.WithField("service", key)}
	e.mu.Lock()
	e.subs[sub.id] = sub
	known := e.svc != nil
	if eff := c.h.effective(e); eff != nil {
		sub.deliver(copyService(eff))
	}
	e.mu.Unlock()
	if known {
		c.ensurePolling(e, -1)
	} else {
		c.ensurePolling(e, 0)
	}
	return func() {
		e.mu.Lock()
		delete(e.subs, sub.id)
		e.mu.Unlock()
		sub.close()
	}, nil
}

// Forget stops following a service: its subscriptions end, polling stops,
// the copy held and its snapshot file are dropped.
func (c *Client) Forget(ref ServiceRef) {
	key, _, _, err := ref.key()
	if err != nil {
		return
	}
	c.polls.cancel(key)
	c.h.remove(key)
	if c.snap != nil {
		c.snap.remove(key)
	}
}

// ensurePolling schedules the poll of e if it is not scheduled: after
// delay, or (delay < 0) after the default poll interval. With delay 0 a
// scheduled poll is made due at once.
func (c *Client) ensurePolling(e *entry, delay time.Duration) {
	if c.polls.has(e.key) {
		if delay == 0 {
			c.polls.runNow(e.key)
		}
		return
	}
	if delay < 0 {
		delay = defaultCacheMillis * time.Millisecond
	}
	key := e.key
	c.polls.schedule(key, delay, func(ctx context.Context) time.Duration { return c.poll(ctx, key) })
}

// poll refreshes one service and returns the delay to the next poll: the
// server's cacheMillis counted from the start of this one, or a growing
// back-off after failures.
func (c *Client) poll(ctx context.Context, key string) time.Duration {
	e := c.h.get(key)
	if e == nil {
		return -1
	}
	start := time.Now()
	c.stats.polls.Add(1)
	svc, err := c.query(ctx, e)
	if err != nil {
		c.stats.pollFailures.Add(1)
		e.mu.Lock()
		e.fails++
		fails := e.fails
		cache := int64(defaultCacheMillis)
		if e.svc != nil && e.svc.CacheMillis > 0 {
			cache = e.svc.CacheMillis
		}
		e.mu.Unlock()
		f := c.log.WithField("service", key).WithError(err)
		if fails == 1 {
			f.Warn("poll failed; serving the copy held")
		} else {
			f.Debug("poll failed again")
		}
		d := time.Duration(cache) * time.Millisecond
		for i := 1; i < fails && d < maxPollBackoff; i++ {
			d *= 2
		}
		return min(d, maxPollBackoff)
	}
	e.mu.Lock()
	if e.fails > 0 {
		c.log.WithFields(logrus.Fields{"service": key, "failures": e.fails}).Info("poll succeeded again")
	}
	e.fails = 0
	e.mu.Unlock()
	c.h.update(e, svc, start, fromServer)
	d := time.Duration(svc.CacheMillis) * time.Millisecond
	if svc.CacheMillis <= 0 {
		d = defaultCacheMillis * time.Millisecond
	}
	d = min(max(d, minPoll), maxPoll)
	return max(d-time.Since(start), minPoll/2)
}

// fetch asks a server for e now, sharing a fetch already in flight, and
// returns what readers then see.
func (c *Client) fetch(ctx context.Context, e *entry) (Service, error) {
	e.mu.Lock()
	if ch := e.inflight; ch != nil {
		e.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Service{}, ctx.Err()
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if eff := c.h.effective(e); eff != nil {
			return copyService(eff), nil
		}
		if e.lastErr != nil {
			return Service{}, e.lastErr
		}
		return Service{}, fmt.Errorf("client: %s: no answer yet", e.key)
	}
	ch := make(chan struct{})
	e.inflight = ch
	e.mu.Unlock()
	start := time.Now()
	svc, err := c.query(ctx, e)
	if err == nil {
		c.h.update(e, svc, start, fromServer)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inflight, e.lastErr = nil, err
	close(ch)
	if eff := c.h.effective(e); eff != nil {
		return copyService(eff), nil
	}
	return Service{}, err
}

// query is GET instance/list for e, subscribing for pushes when the push
// socket is open.
func (c *Client) query(ctx context.Context, e *entry) (Service, error) {
	g, n := splitGrouped(e.grouped)
	p := url.Values{
		"namespaceId": {c.ns},
		"serviceName": {e.grouped},
		"groupName":   {g},
		"clusters":    {e.clusters},
		"healthyOnly": {"false"},
		"app":         {c.cfg.AppName},
	}
	if pr := c.push.Load(); pr != nil {
		p.Set("udpPort", strconv.Itoa(pr.port()))
		p.Set("clientIP", c.clientIP)
	}
	body, err := c.t.call(ctx, http.MethodGet, "/v1/ns/instance/list", p)
	if err != nil {
		return Service{}, err
	}
	svc, err := parseService(body)
	if err != nil {
		return Service{}, fmt.Errorf("client: instance/list of %s: %w", n, err)
	}
	return svc, nil
}
