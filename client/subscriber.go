package client

import (
	"sync"

	"github.com/sirupsen/logrus"
)

// queueWarn is the backlog at which a slow callback is logged.
const queueWarn = 1000

// subscriber delivers one callback's events in order, one at a time, on a
// goroutine of its own, so a slow callback delays only itself.
type subscriber struct {
	id  uint64
	fn  func(Service)
	log *logrus.Entry

	mu      sync.Mutex
	q       []Service
	running bool
	closed  bool
	warned  bool
}

// deliver queues svc for the callback.
func (s *subscriber) deliver(svc Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.q = append(s.q, svc)
	if len(s.q) >= queueWarn && !s.warned {
		s.warned = true
		s.log.WithField("backlog", len(s.q)).Warn("subscription callback is slow; changes are queued")
	}
	if !s.running {
		s.running = true
		go s.drain()
	}
}

func (s *subscriber) drain() {
	for {
		s.mu.Lock()
		if s.closed || len(s.q) == 0 {
			s.running = false
			s.q = nil
			s.mu.Unlock()
			return
		}
		svc := s.q[0]
		s.q[0] = Service{}
		s.q = s.q[1:]
		if len(s.q) < queueWarn/2 {
			s.warned = false
		}
		s.mu.Unlock()
		s.fn(svc)
	}
}

// close drops what is queued; a callback in progress finishes.
func (s *subscriber) close() {
	s.mu.Lock()
	s.closed = true
	s.q = nil
	s.mu.Unlock()
}
