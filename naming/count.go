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
