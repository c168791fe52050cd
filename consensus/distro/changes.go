package distro

import "sextant/naming"

// MaxDeltaKeys bounds the changed instances remembered for one service
// waiting to be sent; past it the whole record is sent instead. It keeps
// the sync queues bounded by the number of services whatever the peers do.
const MaxDeltaKeys = 1024

// changes is what changed in one service since it was last sent: a set of
// instance keys, or everything (full).
type changes struct {
	full bool
	keys map[naming.InstanceKey]struct{}
	// content is set when something other than beat marks changed: only
	// such changes explain a checksum that differs.
	content bool
}

func (c *changes) addKey(ik naming.InstanceKey) {
	if c.full {
		return
	}
	if c.keys == nil {
		c.keys = map[naming.InstanceKey]struct{}{}
	}
	c.keys[ik] = struct{}{}
	if len(c.keys) > MaxDeltaKeys {
		c.setFull()
	}
}

func (c *changes) setFull() {
	c.full = true
	c.keys = nil
}

// addAll adds o's changes to c (o is left as it is).
func (c *changes) addAll(o *changes) {
	c.content = c.content || o.content
	if o.full {
		c.setFull()
		return
	}
	for ik := range o.keys {
		c.addKey(ik)
		if c.full {
			return
		}
	}
}

// changeSet maps services to their changes.
type changeSet map[naming.ServiceKey]*changes

func (s changeSet) of(k naming.ServiceKey) *changes {
	c := s[k]
	if c == nil {
		c = &changes{}
		s[k] = c
	}
	return c
}

// merge adds every change of o to s (o is left as it is).
func (s changeSet) merge(o changeSet) {
	for k, c := range o {
		s.of(k).addAll(c)
	}
}
