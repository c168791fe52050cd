package naming

import "sync/atomic"

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

// PersistentState returns a copy of the CP half of the catalog.
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
		ps := PersistentService{Key: s.Key, Meta: cloneMeta(s.Meta)}
		for _, in := range s.Instances {
			if !in.Ephemeral {
				ps.Instances = append(ps.Instances, in)
			}
		}
		st.Services = append(st.Services, ps)
	}
	return st
}

// RestorePersistent replaces the CP half of the catalog with st, keeping
// the ephemeral instances of services that remain. Listeners hear of every
// service that existed before or after.
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
		var list []*Instance
		if prev := old[ps.Key]; prev != nil {
			for _, in := range prev.Instances {
				if in.Ephemeral {
					list = append(list, in)
				}
			}
		}
		for _, in := range ps.Instances {
			if in == nil {
				continue // a damaged snapshot; nothing to restore
			}
			n := in.clone()
			n.Ephemeral = false
			n.ID = n.Key().ID(ps.Key)
			n.beat = new(atomic.Int64)
			list, _ = replaceInstance(list, n)
		}
		c.publish(op, &Service{Key: ps.Key, Meta: cloneMeta(ps.Meta), Instances: list})
	}
	c.mu.Unlock()
	for k := range touched {
		c.notify(k)
	}
}
