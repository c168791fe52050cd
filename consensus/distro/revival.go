package distro

import (
	"net"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// Instances that come back. A deregistered instance listed again is what
// clients notice most, so every way one returns is logged with what
// brought it: the kind of write, the way it came (origin), its stamps and
// the tombstone it beat. The lines carry "instance=IP:PORT" so a test or
// an operator can find them by instance. A client that registers again
// after deregistering (a restart, a rolling deploy) does this too, so
// these lines are at info level; a write applied late is a warning.

// noteCreated logs a write that created an instance over a tombstone, or
// one this node stamped itself and applied more than ForwardTimeout later
// (nobody waits that long for an answer: its client has given up, and may
// since have deregistered elsewhere). A forwarded write's stamp is on
// another node's clock, so lateness is not judged for it: skew would make
// every one look late or none.
func (e *Engine) noteCreated(op naming.Op, ik naming.InstanceKey, origin string, sent, tomb int64) {
	now := e.nowMs()
	late := sent != 0 && now-sent > e.cfg.ForwardTimeout.Milliseconds() && !strings.HasPrefix(origin, "forwarded")
	if tomb == 0 && !late {
		return
	}
	e.stats.revivals.Add(1)
	l := e.revivalLog(op.Service, ik).WithFields(logrus.Fields{
		"origin": origin, "kind": op.Kind.String(), "sent": sent, "stamp": op.Time, "tomb": tomb, "now": now,
	})
	if late {
		l.Warn("instance created by a late write")
		return
	}
	l.Info("instance created over its tombstone")
}

// noteRevived logs a received record whose instance beats this node's
// tombstone of it.
func (e *Engine) noteRevived(key naming.ServiceKey, ik naming.InstanceKey, v version, tomb int64, peer string) {
	e.stats.revivals.Add(1)
	e.revivalLog(key, ik).WithFields(logrus.Fields{
		"origin": peer, "kind": "merge", "stamp": v.in.Updated, "mark": v.mark, "tomb": tomb, "now": e.nowMs(),
	}).Info("instance revived by a record over its tombstone")
}

func (e *Engine) revivalLog(key naming.ServiceKey, ik naming.InstanceKey) *logrus.Entry {
	return e.log.WithFields(logrus.Fields{
		"node": e.self, "service": key.String(), "instance": net.JoinHostPort(ik.IP, strconv.Itoa(ik.Port)),
	})
}
