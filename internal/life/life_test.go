package life

import "testing"

func TestStartOnceCloseOnce(t *testing.T) {
	var s State
	if err := s.CanStart("x"); err != nil {
		t.Fatal(err)
	}
	s.Started()
	if err := s.CanStart("x"); err == nil || err.Error() != "x: already started" {
		t.Fatalf("second start: %v", err)
	}
	if first, started := s.End(); !first || !started {
		t.Fatalf("first close: %v %v", first, started)
	}
	if first, started := s.End(); first || !started {
		t.Fatalf("second close: %v %v", first, started)
	}
	if err := s.CanStart("x"); err == nil || err.Error() != "x: closed" || !s.Closed() {
		t.Fatalf("start after close: %v", err)
	}
	var never State
	if first, started := never.End(); !first || started {
		t.Fatalf("close before start: %v %v", first, started)
	}
}
