package grpcfront

import (
	"context"
	"errors"
	"sync"
	"time"

	"sextant/naming"
)

// renewWorkers bounds the beats in flight during one renewal round.
const renewWorkers = 16

// renewLoop keeps the bound instances alive at their responsible members:
// every RenewInterval (sooner for instances with a short beat timeout,
// renewEvery) each one gets a beat through the Writer; the beats due
// together form one round, stamped with one time. The Writer's beat path carries beats
// for instances this node's copy holds without waiting for the owner and
// packs those bound for one owner into one message (consensus/distro), so
// a round costs each owner a few messages, not one per instance.
func (s *Server) renewLoop() {
	defer s.wg.Done()
	t := time.NewTicker(min(s.cfg.RenewInterval, minRenew))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.renew(now)
		}
	}
}

// renew beats every bound instance due at now once. An instance its owner
// no longer has (expired during a partition, lost with a member) is
// registered again.
func (s *Server) renew(now time.Time) {
	at := now.UnixMilli()
	list := s.bound.due(at)
	if len(list) == 0 {
		return
	}
	work := make(chan renewal)
	var wg sync.WaitGroup
	for range min(renewWorkers, len(list)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				s.renewOne(r, at)
			}
		}()
	}
	for _, r := range list {
		select {
		case work <- r:
		case <-s.stop:
		}
	}
	close(work)
	wg.Wait()
	s.stats.renewRounds.Add(1)
}

func (s *Server) renewOne(r renewal, at int64) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ApplyTimeout)
	defer cancel()
	err := s.w.Apply(ctx, naming.Op{Kind: naming.OpBeat, Time: at, Service: r.ref.svc, Target: r.ref.ik, Ephemeral: true})
	if errors.Is(err, naming.ErrNotFound) {
		if !s.bound.holds(r.ref) {
			return // deregistered or released since the snapshot: not found is right
		}
		err = s.w.Apply(ctx, naming.Op{Kind: naming.OpRegister, Time: at, Service: r.ref.svc, Ephemeral: true, Instance: r.inst})
		if err == nil {
			if !s.bound.registered(r.ref, at) {
				// Released while the registration was under way.
				s.deregister(r.ref, at)
				return
			}
			s.stats.reregistered.Add(1)
		}
	}
	if err != nil {
		s.stats.renewFailed.Add(1)
		return
	}
	s.stats.renewed.Add(1)
}
