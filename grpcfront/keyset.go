package grpcfront

import "iter"

// keySetSmall is how many keys a keySet keeps in its slice before it
// moves them to a map.
const keySetSmall = 8

// keySet is a set that stays a slice while it is small. A connection holds
// its subscriptions and its bound instances in keySets: most hold one or
// two, and a Go map of a single subKey takes a group of eight slots (about
// 0.5 KiB), a slice of one 64 bytes. The zero value is an empty set.
type keySet[K comparable] struct {
	few  []K
	many map[K]struct{}
}

func (s *keySet[K]) has(k K) bool {
	if s.many != nil {
		_, ok := s.many[k]
		return ok
	}
	for _, x := range s.few {
		if x == k {
			return true
		}
	}
	return false
}

func (s *keySet[K]) add(k K) {
	switch {
	case s.many != nil:
		s.many[k] = struct{}{}
	case s.has(k):
	case len(s.few) < keySetSmall:
		s.few = append(s.few, k)
	default:
		s.many = make(map[K]struct{}, 2*keySetSmall)
		for _, x := range s.few {
			s.many[x] = struct{}{}
		}
		s.many[k] = struct{}{}
		s.few = nil
	}
}

func (s *keySet[K]) remove(k K) {
	if s.many != nil {
		delete(s.many, k)
		return
	}
	for i, x := range s.few {
		if x == k {
			last := len(s.few) - 1
			s.few[i] = s.few[last]
			var zero K
			s.few[last] = zero
			s.few = s.few[:last]
			return
		}
	}
}

func (s *keySet[K]) len() int {
	if s.many != nil {
		return len(s.many)
	}
	return len(s.few)
}

// all yields every key once, in no particular order; the set must not
// change meanwhile.
func (s *keySet[K]) all() iter.Seq[K] {
	return func(yield func(K) bool) {
		if s.many != nil {
			for k := range s.many {
				if !yield(k) {
					return
				}
			}
			return
		}
		for _, k := range s.few {
			if !yield(k) {
				return
			}
		}
	}
}
