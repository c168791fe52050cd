package naming

// CountServices returns how many services namespace ns holds, without
// building views; writers use it to enforce a limit on services per
// namespace.
func (c *Catalog) CountServices(ns string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for k := range c.services {
		if k.Namespace == ns {
			n++
		}
	}
	return n
}

// CountNamespaces returns how many namespaces the catalog holds: those
// created explicitly and those that only hold services, public included.
func (c *Catalog) CountNamespaces() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	seen := make(map[string]struct{}, len(c.namespaces)+1)
	seen[DefaultNamespace] = struct{}{}
	for id := range c.namespaces {
		seen[id] = struct{}{}
	}
	for k := range c.services {
		seen[k.Namespace] = struct{}{}
	}
	return len(seen)
}
