package cluster

import (
	"testing"

	"sextant/naming"
)

func TestStateMachine(t *testing.T) {
	up := peer{state: naming.MemberUp}
	steps := []struct {
		name string
		r    result
		want string
	}{
		{"first miss is suspicious", reportFailed, naming.MemberSuspicious},
		{"second miss stays suspicious", reportFailed, naming.MemberSuspicious},
		{"third miss is down", reportFailed, naming.MemberDown},
		{"more misses stay down", reportFailed, naming.MemberDown},
		{"one success is up", reportOK, naming.MemberUp},
		{"a miss after recovery starts over", reportFailed, naming.MemberSuspicious},
		{"refused is down at once", reportRefused, naming.MemberDown},
		{"up again", reportOK, naming.MemberUp},
	}
	p := up
	for _, s := range steps {
		p = next(p, s.r, 1, 3)
		if p.state != s.want {
			t.Fatalf("%s: state %s, want %s (fails %d)", s.name, p.state, s.want, p.fails)
		}
	}
	if p.fails != 0 {
		t.Errorf("success left fail count %d", p.fails)
	}
}
