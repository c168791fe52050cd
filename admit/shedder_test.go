package admit

import "testing"

func TestShedder(t *testing.T) {
	var s Shedder
	c1, ok1 := s.Enter(2)
	c2, ok2 := s.Enter(2)
	c3, ok3 := s.Enter(2)
	if !ok1 || !ok2 || ok3 || !c3 {
		t.Fatalf("third of two admitted: %v %v %v", ok1, ok2, ok3)
	}
	if s.Shed() != 1 {
		t.Fatalf("shed %d", s.Shed())
	}
	s.Leave(c3)
	s.Leave(c2)
	if s.InFlight() != 1 {
		t.Fatalf("in flight %d", s.InFlight())
	}
	if _, ok := s.Enter(2); !ok {
		t.Fatal("refused under the bound")
	}
	s.Leave(c1)
	if c, ok := s.Enter(0); c || !ok {
		t.Fatal("no bound: counted or refused")
	}
}
