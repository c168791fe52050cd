package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestPickBelowEphemeralRangeWithOffsets(t *testing.T) {
	taken := map[int]bool{}
	seen := map[int]bool{}
	for i := 0; i < 20; i++ {
		p, err := Pick(taken, -1000, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []int{p, p - 1000, p + 1000} {
			if q < lowest || q >= ephemeralStart() {
				t.Fatalf("port %d (pick %d) outside %d–%d", q, p, lowest, ephemeralStart()-1)
			}
			if seen[q] {
				t.Fatalf("port %d handed out twice", q)
			}
			seen[q] = true
			if !taken[q] {
				t.Fatalf("port %d not marked taken", q)
			}
		}
	}
}

func TestPickSkipsBoundPorts(t *testing.T) {
	taken := map[int]bool{}
	p, err := Pick(taken)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		t.Fatalf("picked port %d cannot be bound: %v", p, err)
	}
	defer l.Close()
	if free(p) {
		t.Fatalf("free(%d) true while it is listened on", p)
	}
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if q := u.LocalAddr().(*net.UDPAddr).Port; free(q) {
		t.Fatalf("free(%d) true while it is bound for UDP", q)
	}
}
