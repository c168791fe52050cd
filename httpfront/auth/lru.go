package auth

import "container/list"

// passwordCache remembers the username/password pairs that matched, keyed
// by their SHA-256, with the hash they matched; it holds at most max and
// drops the least recently used one at a time. Only matches are kept, so
// wrong guesses can neither fill it nor push real users out. Not safe for
// concurrent use: the guard locks it.
type passwordCache struct {
	max   int
	order *list.List // front: most recently used; values are [32]byte keys
	items map[[32]byte]*cacheEntry
}

type cacheEntry struct {
	hash string
	el   *list.Element
}

func newPasswordCache(max int) *passwordCache {
	return &passwordCache{max: max, order: list.New(), items: map[[32]byte]*cacheEntry{}}
}

// matched reports whether key matched hash when last checked.
func (c *passwordCache) matched(key [32]byte, hash string) bool {
	e, ok := c.items[key]
	if !ok || e.hash != hash {
		return false
	}
	c.order.MoveToFront(e.el)
	return true
}

// add remembers that key matched hash.
func (c *passwordCache) add(key [32]byte, hash string) {
	if e, ok := c.items[key]; ok {
		e.hash = hash
		c.order.MoveToFront(e.el)
		return
	}
	if len(c.items) >= c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.([32]byte))
	}
	c.items[key] = &cacheEntry{hash: hash, el: c.order.PushFront(key)}
}

func (c *passwordCache) len() int { return len(c.items) }
