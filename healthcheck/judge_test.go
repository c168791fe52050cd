package healthcheck

import (
	"testing"
	"time"
)

func TestJudgeThresholds(t *testing.T) {
	type step struct {
		ok   bool
		flip bool
	}
	cases := []struct {
		name          string
		healthy       bool
		unhealthy, ok int
		steps         []step
	}{
		{"defaults: one failure flips", true, 1, 1, []step{{false, true}}},
		{"defaults: one success flips back", false, 1, 1, []step{{true, true}}},
		{"three failures", true, 3, 1, []step{{false, false}, {false, false}, {false, true}}},
		{"a success resets the failures", true, 3, 1, []step{{false, false}, {false, false}, {true, false}, {false, false}, {false, false}, {false, true}}},
		{"two successes to recover", false, 1, 2, []step{{true, false}, {false, false}, {true, false}, {true, true}}},
		{"healthy stays healthy", true, 1, 1, []step{{true, false}, {true, false}}},
		{"unhealthy stays unhealthy", false, 1, 1, []step{{false, false}, {false, false}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Streak
			for i, st := range c.steps {
				var flip bool
				s, flip = Judge(s, c.healthy, st.ok, c.unhealthy, c.ok)
				if flip != st.flip {
					t.Fatalf("step %d (ok=%v): flip=%v, want %v (streak %+v)", i, st.ok, flip, st.flip, s)
				}
				if s.OK != 0 && s.Fail != 0 {
					t.Fatalf("step %d: both counts set: %+v", i, s)
				}
			}
		})
	}
}

func TestJudgeKeepsFlippingUntilWritten(t *testing.T) {
	// When a flip could not be written, the instance is still healthy in the
	// catalog; the next failure must ask for the flip again.
	s := Streak{}
	s, flip := Judge(s, true, false, 2, 1)
	if flip {
		t.Fatal("flipped after one of two failures")
	}
	for i := 0; i < 3; i++ {
		if s, flip = Judge(s, true, false, 2, 1); !flip {
			t.Fatalf("retry %d: no flip", i)
		}
	}
}

func TestNextDue(t *testing.T) {
	base := t0
	iv := 5 * time.Second
	cases := []struct {
		name    string
		started time.Duration // after due
		want    time.Duration // after due
	}{
		{"on time", 0, iv},
		{"a little late stays on the grid", 300 * time.Millisecond, iv},
		{"almost a whole interval late", iv - time.Millisecond, iv},
		{"a whole interval late starts a new grid", iv, 2 * iv},
		{"far behind: no burst", 3 * iv, 4 * iv},
	}
	for _, c := range cases {
		if got := NextDue(base, base.Add(c.started), iv); !got.Equal(base.Add(c.want)) {
			t.Errorf("%s: next %v after due, want %v", c.name, got.Sub(base), c.want)
		}
	}
}
