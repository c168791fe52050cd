package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// lowest is the first port picked: above the well-known and most
// registered service ports.
const lowest = 10000

// Pick returns a port p on 127.0.0.1 such that p and p+off, for each of
// offsets, are free for TCP and UDP and absent from taken; it marks them
// all in taken. It fails when 1,000 random tries find none.
func Pick(taken map[int]bool, offsets ...int) (int, error) {
	top := ephemeralStart() - 1
	lo, hi := lowest, top
	for _, off := range offsets {
		lo, hi = max(lo, lowest-off), min(hi, top-off)
	}
	if hi <= lo {
		return 0, fmt.Errorf("freeport: no room below the ephemeral range for offsets %v", offsets)
	}
	for i := 0; i < 1000; i++ {
		p := lo + rand.IntN(hi-lo+1)
		ports := []int{p}
		for _, off := range offsets {
			ports = append(ports, p+off)
		}
		if allFree(taken, ports) {
			for _, q := range ports {
				taken[q] = true
			}
			return p, nil
		}
	}
	return 0, fmt.Errorf("freeport: no free port in %d–%d on 127.0.0.1", lo, hi)
}

func allFree(taken map[int]bool, ports []int) bool {
	for _, q := range ports {
		if taken[q] || !free(q) {
			return false
		}
	}
	return true
}

// free reports whether q can be bound on 127.0.0.1 for TCP and UDP.
func free(q int) bool {
	addr := "127.0.0.1:" + strconv.Itoa(q)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	u.Close()
	return true
}

// ephemeralStart is the first port of the kernel's ephemeral range, read
// from procfs; where that cannot be read, 32768, the lowest start in common
// use (Linux's default; the IANA range starts at 49152).
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > lowest+1000 {
				return n
			}
		}
	}
	return 32768
}
