package push

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

type ackKey struct {
	addr netip.AddrPort
	seq  int64
}

// inflight is a push waiting for its ack.
type inflight struct {
	pkt   []byte
	sub   subKey
	sent  time.Time
	sends int
}

// track records a push just sent, replacing an unacked older push to the
// same subscriber.
func (p *Pusher) track(sk subKey, seq int64, pkt []byte, now time.Time) {
	ak := ackKey{addr: sk.addr, seq: seq}
	p.amu.Lock()
	if old, ok := p.bySub[sk]; ok {
		delete(p.pending, old)
		p.stats.superseded.Add(1)
	}
	p.pending[ak] = &inflight{pkt: pkt, sub: sk, sent: now, sends: 1}
	p.bySub[sk] = ak
	p.amu.Unlock()
	p.stats.total.Add(1)
}

// retransmit resends pushes unacked for AckTimeout and gives up on those
// sent 1+Resends times.
func (p *Pusher) retransmit(now time.Time) {
	type resend struct {
		pkt []byte
		to  netip.AddrPort
	}
	var out []resend
	p.amu.Lock()
	for ak, f := range p.pending {
		if now.Sub(f.sent) < p.cfg.AckTimeout {
			continue
		}
		if f.sends > p.cfg.Resends {
			delete(p.pending, ak)
			if p.bySub[f.sub] == ak {
				delete(p.bySub, f.sub)
			}
			p.stats.failed.Add(1)
			continue
		}
		f.sends++
		f.sent = now
		out = append(out, resend{f.pkt, ak.addr})
	}
	p.amu.Unlock()
	for _, r := range out {
		p.send(r.pkt, r.to)
	}
}

// acked settles the push an ack from addr names; false for unknown acks.
func (p *Pusher) acked(from netip.AddrPort, seq int64) bool {
	ak := ackKey{addr: netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), seq: seq}
	p.amu.Lock()
	f, ok := p.pending[ak]
	if ok {
		delete(p.pending, ak)
		if p.bySub[f.sub] == ak {
			delete(p.bySub, f.sub)
		}
	}
	p.amu.Unlock()
	if ok {
		p.stats.succeed.Add(1)
	}
	return ok
}

// receive reads acks until the socket is closed.
func (p *Pusher) receive() {
	defer p.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-p.done:
				return
			default:
			}
			p.log.WithError(err).Debug("push ack read failed")
			continue
		}
		typ, seq, err := parseAck(buf[:n])
		if err != nil {
			p.log.WithError(err).WithField("from", from.String()).Debug("ignored push ack")
			continue
		}
		if !p.acked(from, seq) {
			p.log.WithField("from", from.String()).WithField("type", typ).WithField("lastRefTime", seq).Debug("unknown push ack")
		}
	}
}
