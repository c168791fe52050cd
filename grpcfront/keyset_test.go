package grpcfront

import (
	"maps"
	"slices"
	"testing"
)

// TestKeySet: the set answers as a map would, below and past the size
// where it moves its keys from the slice to a map.
func TestKeySet(t *testing.T) {
	var s keySet[int]
	want := map[int]bool{}
	check := func(when string) {
		t.Helper()
		if s.len() != len(want) {
			t.Fatalf("%s: len %d, want %d", when, s.len(), len(want))
		}
		got := slices.Sorted(s.all())
		if !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
			t.Fatalf("%s: keys %v, want %v", when, got, slices.Sorted(maps.Keys(want)))
		}
		for k := -1; k < 3*keySetSmall; k++ {
			if s.has(k) != want[k] {
				t.Fatalf("%s: has(%d) = %v", when, k, s.has(k))
			}
		}
	}
	check("empty")
	for k := 0; k < 2*keySetSmall; k++ {
		s.add(k)
		s.add(k) // twice: still one key
		want[k] = true
		check("adding")
		if k%3 == 0 {
			s.remove(k)
			delete(want, k)
			check("removing")
		}
	}
	s.remove(-1) // absent: nothing changes
	check("removing an absent key")
	for k := range 2 * keySetSmall {
		s.remove(k)
		delete(want, k)
	}
	check("all removed")
}
