package client

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// Push limits: the read buffer (a UDP payload's maximum) and the largest
// decompressed push accepted.
const (
	pushReadSize = 65535
	maxPushBytes = 4 << 20
	maxDumpBytes = 60000 // a dump-ack must fit one datagram
)

// pushReceiver takes the UDP pushes of Nacos 1.x servers
// ({"type":"dom","data":"<instance/list JSON>","lastRefTime":N}, gzip
// when it starts with 1F 8B), applies those of services held and acks
// every push to its sender. As with the Nacos clients, any sender is
// heard: a server may push from any of its addresses (on this host, from
// the address it pushes to), and UDP sources can be forged anyway. A push
// only changes a service already held, and the next poll corrects it.
type pushReceiver struct {
	c    *Client
	conn *net.UDPConn
	log  *logrus.Entry
}

func newPushReceiver(c *Client, addr string) (*pushReceiver, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("client: push address %q: %w", addr, err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("client: push listen %s: %w", addr, err)
	}
	return &pushReceiver{c: c, conn: conn, log: c.log.WithField("part", "push")}, nil
}

func (p *pushReceiver) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *pushReceiver) close() error { return p.conn.Close() }

func (p *pushReceiver) loop() {
	buf := make([]byte, pushReadSize)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.log.WithError(err).Warn("push read failed")
			continue
		}
		ack := p.handle(buf[:n])
		if ack != nil {
			if _, err := p.conn.WriteToUDPAddrPort(ack, from); err != nil {
				p.log.WithError(err).Debug("push ack not sent")
			}
		}
	}
}

// handle applies one datagram and returns the ack to send (nil: none).
func (p *pushReceiver) handle(b []byte) []byte {
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			p.log.WithError(err).Debug("push is not valid gzip")
			return nil
		}
		b, err = io.ReadAll(io.LimitReader(zr, maxPushBytes+1))
		if err != nil || len(b) > maxPushBytes {
			p.log.WithError(err).Debug("push does not decompress")
			return nil
		}
	}
	var pkt struct {
		Type        string          `json:"type"`
		Data        string          `json:"data"`
		LastRefTime json.RawMessage `json:"lastRefTime"`
	}
	if err := json.Unmarshal(b, &pkt); err != nil {
		p.log.WithError(err).Debug("push is not JSON")
		return nil
	}
	seq := strings.Trim(string(pkt.LastRefTime), `"`)
	switch pkt.Type {
	case "dom", "service":
		svc, err := parseService([]byte(pkt.Data))
		if err != nil {
			p.log.WithError(err).Debug("push data is not a service")
			return ackOf("push-ack", seq, "")
		}
		key := cacheKey(svc.Name, svc.Clusters)
		if e := p.c.h.get(key); e != nil {
			p.c.stats.pushes.Add(1)
			if p.c.h.update(e, svc, time.Now(), fromPush) {
				p.c.stats.pushesApplied.Add(1)
				p.log.WithField("service", key).Debug("push applied")
			}
		}
		return ackOf("push-ack", seq, "")
	case "dump":
		dump := map[string]Service{}
		for _, e := range p.c.h.all() {
			e.mu.Lock()
			if e.svc != nil {
				dump[e.key] = *e.svc
			}
			e.mu.Unlock()
		}
		data, _ := json.Marshal(dump)
		if len(data) > maxDumpBytes {
			data = nil
		}
		return ackOf("dump-ack", seq, string(data))
	}
	return ackOf("unknown-ack", seq, "")
}

func ackOf(typ, seq, data string) []byte {
	b, _ := json.Marshal(map[string]string{"type": typ, "lastRefTime": seq, "data": data})
	return b
}
