package grpcfront

import (
	"encoding/json"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxBadMessages ends a bi-stream after this many messages in a row that
// do not decode.
const maxBadMessages = 3

// biStream serves /BiRequestStream/requestBiStream: the first message
// must be ConnectionSetupRequest (answered with nothing); the stream then
// carries pushes and probes out and their acks in, until either side ends
// it. Its end ends the connection. The handler's goroutine reads the
// stream; senders start only when something is to be sent (outbox.go).
func (s *Server) biStream(stream grpc.ServerStream) error {
	c := connOf(stream.Context())
	if c == nil {
		return status.Error(codes.Internal, "connection not tagged")
	}
	var p Payload
	if err := stream.RecvMsg(&p); err != nil {
		return err
	}
	c.touch(s.now())
	if p.Type != typeConnectionSetup {
		return status.Errorf(codes.InvalidArgument, "the first message of the stream must be %s, got %q", typeConnectionSetup, p.Type)
	}
	var setup connectionSetupRequest
	if err := json.Unmarshal(p.Body, &setup); err != nil {
		return status.Errorf(codes.InvalidArgument, "%s does not parse: %v", typeConnectionSetup, err)
	}
	if s.draining.Load() {
		return status.Error(codes.Unavailable, "server is shutting down")
	}
	c.out.attach(stream, func() { go s.sender(c) })
	if err := s.register(c, setup); err != nil {
		return err
	}
	defer s.end(c, "stream ended")
	s.recvLoop(stream, c)
	// The stream's context must be done before the sender is waited for,
	// so that a send blocked on flow control returns.
	c.kill()
	c.out.close()
	return nil
}

// register makes c a set-up connection, within MaxConnections.
func (s *Server) register(c *conn, setup connectionSetupRequest) error {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if len(s.conns) >= s.cfg.MaxConnections {
		s.stats.refusedConns.Add(1)
		return status.Errorf(codes.ResourceExhausted, "too many connections: this member holds its limit of %d, try another member", s.cfg.MaxConnections)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended || c.setup {
		return status.Error(codes.FailedPrecondition, "connection already set up or ended")
	}
	c.setup = true
	c.clientVersion, c.app = setup.ClientVersion, setup.Labels["app"]
	s.conns[c] = struct{}{}
	return nil
}

// recvLoop reads what the client sends on the stream: acks of pushes and
// answers to probes. Any message shows the connection alive. It returns
// when the stream or the connection ends (c.kill ends both).
func (s *Server) recvLoop(stream grpc.ServerStream, c *conn) {
	bad := 0
	for {
		var p Payload
		if err := stream.RecvMsg(&p); err != nil {
			if status.Code(err) != codes.Internal || bad >= maxBadMessages {
				return
			}
			// A message that does not decode: answer it, read on.
			bad++
			c.out.request(errorPayload(codeParse, "payload does not parse: "+err.Error(), ""))
			continue
		}
		bad = 0
		c.touch(s.now())
		c.probe.Store(0)
		if e := s.tooLarge(&p); e != nil {
			c.out.request(e)
			continue
		}
		switch p.Type {
		case typeNotifySubResp:
			var r response
			if err := json.Unmarshal(p.Body, &r); err != nil {
				continue
			}
			if it, ok := c.out.ack(r.RequestID); ok {
				if r.ResultCode == codeOK || r.Success {
					s.stats.pushAcked.Add(1)
					s.observePush(s.now().Sub(it.noticed))
				} else {
					s.stats.pushFailed.Add(1)
				}
			}
		case typeClientDetectResp, typeConnectResetResp:
		default:
			s.log.WithField("type", p.Type).WithField("conn", c.id).Debug("ignored a message on the stream")
		}
	}
}

// sender is a connection's sender: it sends what the outbox holds, new
// pushes and overdue ones, until the outbox is empty, then ends. A failed
// send ends the connection.
func (s *Server) sender(c *conn) {
	for {
		msgs, oc, stream := c.out.take(s.now(), s.cfg.PushAckTimeout, s.cfg.PushRetries, s.nextID, s.encodePush)
		s.stats.pushSuperseded.Add(uint64(oc.superseded))
		s.stats.pushFailed.Add(uint64(oc.failed))
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			if err := stream.SendMsg(m.p); err != nil {
				c.out.failed()
				c.kill()
				return
			}
			if m.push {
				s.stats.pushSent.Add(1)
				if m.resend {
					s.stats.pushResent.Add(1)
				}
			}
		}
	}
}

// resendTick is how often pushes are checked for an overdue ack.
func (s *Server) resendTick() time.Duration {
	d := s.cfg.PushAckTimeout / 5
	if d < 10*time.Millisecond {
		d = 10 * time.Millisecond
	}
	return min(d, time.Second)
}

// resendOverdue starts a sender on every connection with a push waiting
// past the ack timeout.
func (s *Server) resendOverdue(now time.Time) {
	for _, c := range s.setUp() {
		if c.out.overdue(now, s.cfg.PushAckTimeout) {
			c.out.kick()
		}
	}
}

// end forgets a connection: its subscriptions go, and its instances are
// deregistered unless the node is draining. It is idempotent.
func (s *Server) end(c *conn, reason string) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	wasSetup := c.setup
	subs, insts := c.subs, c.insts
	c.subs, c.insts = keySet[subKey]{}, keySet[instRef]{}
	c.mu.Unlock()
	c.kill()
	s.cmu.Lock()
	delete(s.conns, c)
	s.cmu.Unlock()
	for k := range subs.all() {
		s.subs.remove(k, c)
	}
	if wasSetup {
		s.log.WithField("conn", c.id).WithField("reason", reason).Debug("connection ended")
	}
	s.release(c, insts)
}
