package naming

import (
	"slices"
	"sync/atomic"
)

// PersistentState is the CP half of the catalog: namespaces, switches,
// service definitions and persistent instances. It is what a durable store
// saves and restores; ephemeral instances are not part of it.
type PersistentState struct {
	Namespaces []Namespace         `json:"namespaces"`
	Switches   Switches            `json:"switches"`
	Services   []PersistentService `json:"services"`
	// Auth is the access-control data; absent in states written before it
	// existed, which restore as empty.
	Auth *AuthState `json:"auth,omitempty"`
}

// PersistentService is one service definition with its persistent instances.
type PersistentService struct {
	Key       ServiceKey  `json:"key"`
	Meta      ServiceMeta `json:"meta"`
	Instances []*Instance `json:"instances"`
}

// PersistentState returns a copy of the CP half of the catalog: durable
// services only, with their persistent instances.
func (c *Catalog) PersistentState() PersistentState {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st := PersistentState{Switches: c.switches}
	if a := c.auth; a != nil && (a.Initialized || len(a.Users)+len(a.Roles)+len(a.Permissions) > 0) {
		st.Auth = a.clone()
	}
	for _, n := range c.namespaces {
		st.Namespaces = append(st.Namespaces, n)
	}
	for _, s := range c.services {
		if !s.Durable {
			continue
		}
		ps := PersistentService{Key: s.Key, Meta: cloneMeta(s.Meta)}
		for in := range s.All() {
			if !in.Ephemeral {
				// A copy with its ID, as snapshots have always carried it.
				c := *in
				c.ID = in.Key().ID(s.Key)
				ps.Instances = append(ps.Instances, &c)
			}
		}
		st.Services = append(st.Services, ps)
	}
	return st
}

// RestorePersistent replaces the CP half of the catalog with st: the
// services of st become the durable ones, each keeping the ephemeral
// instances it had here. A service that st does not hold stays with its
// ephemeral instances as a record that is not durable (one that was durable
// and has none is dropped), so a restore never removes what Distro
// replicated. Listeners hear of every service that existed before or after.
func (c *Catalog) RestorePersistent(st PersistentState, now int64) {
	c.mu.Lock()
	touched := map[ServiceKey]bool{}
	old := c.services
	c.services = make(map[ServiceKey]*Service, len(st.Services))
	c.namespaces = map[string]Namespace{}
	for _, n := range st.Namespaces {
		if n.ID != DefaultNamespace {
			c.namespaces[n.ID] = n
		}
	}
	c.switches = st.Switches
	c.auth = &AuthState{}
	if st.Auth != nil {
		c.auth = st.Auth.clone()
		sortAuth(c.auth)
	}
	for k := range old {
		touched[k] = true
	}
	op := &Op{Time: now}
	for _, ps := range st.Services {
		touched[ps.Key] = true
		list := ephemeralOf(old[ps.Key])
		for _, in := range ps.Instances {
			if in == nil {
				continue // a damaged snapshot; nothing to restore
			}
			n := in.clone()
			n.Ephemeral = false
			n.beat = new(atomic.Int64)
			list, _ = replaceInstance(list, n)
		}
		c.publish(op, &Service{Key: ps.Key, Meta: cloneMeta(ps.Meta), Instances: list, Durable: true})
	}
	for k, s := range old {
		if _, ok := c.services[k]; ok {
			continue
		}
		switch eph := ephemeralOf(s); {
		case !s.Durable:
			c.services[k] = s // untouched: the same view
		case len(eph) > 0:
			c.publish(op, &Service{Key: s.Key, Meta: ServiceMeta{Implicit: true}, Instances: eph})
		}
	}
	c.mu.Unlock()
	for k := range touched {
		c.notify(k)
	}
}

// ephemeralOf returns the ephemeral instances of s (nil s: none), sorted.
func ephemeralOf(s *Service) []*Instance {
	if s == nil {
		return nil
	}
	var list []*Instance
	for in := range s.All() {
		if in.Ephemeral {
			list = append(list, in)
		}
	}
	return list
}

// replaceInstance returns a new sorted slice with in replacing the instance
// of the same key, or added, and the instance it replaced (nil when added).
// list is sorted by ID (CompareKeys).
func replaceInstance(list []*Instance, in *Instance) ([]*Instance, *Instance) {
	i, found := slices.BinarySearchFunc(list, in.Key(), compareInstanceKey)
	if found {
		out := make([]*Instance, len(list))
		copy(out, list)
		out[i] = in
		return out, list[i]
	}
	out := make([]*Instance, len(list)+1)
	copy(out, list[:i])
	out[i] = in
	copy(out[i+1:], list[i:])
	return out, nil
}
