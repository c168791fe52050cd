package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// system is one thing measured in a comparison: Sextant or a reference.
type system struct {
	name string
	pids []int // server processes whose CPU is counted
	// run measures once and returns operations per second and the
	// number of operations done.
	run func(ctx context.Context) (rate float64, ops float64, err error)

	best    float64
	rates   []float64
	cpu     time.Duration
	ops     float64
	err     error
	details string
}

// cpuPerOp is the servers' CPU per operation over all rounds.
func (s *system) cpuPerOp() time.Duration {
	if s.ops <= 0 {
		return 0
	}
	return time.Duration(float64(s.cpu) / s.ops)
}

// ok reports whether at least one round succeeded.
func (s *system) ok() bool { return s.err == nil && len(s.rates) > 0 }

// roundsText lists each round's rate.
func (s *system) roundsText() string {
	var p []string
	for _, r := range s.rates {
		p = append(p, fmtCount(r))
	}
	return strings.Join(p, ", ")
}

// measureRounds measures the systems in turn, rounds times (A B C A B C…),
// so that load from outside the run falls on all of them alike, and keeps
// each one's best round: outside load only ever lowers a figure. A system
// that fails is not measured again.
func measureRounds(ctx context.Context, h *harness, rounds int, systems ...*system) {
	for r := 0; r < rounds; r++ {
		for _, s := range systems {
			if s.err != nil || ctx.Err() != nil {
				continue
			}
			h.logf("  %s, round %d/%d", s.name, r+1, rounds)
			m := startCPU(s.pids...)
			var stop func()
			if r == 0 && strings.HasPrefix(s.name, "sextant") {
				stop = h.profile(s.name, s.pids)
			}
			rate, ops, err := s.run(ctx)
			if stop != nil {
				stop()
			}
			if err != nil {
				s.err = err
				continue
			}
			s.cpu += m.used()
			s.ops += ops
			s.rates = append(s.rates, rate)
			if rate > s.best {
				s.best = rate
			}
		}
	}
}

// cpuBusy returns the fraction (0–1) of all CPUs busy over d, from
// /proc/stat: a view of the load from outside the harness when sampled
// while the harness runs nothing.
func cpuBusy(ctx context.Context, d time.Duration) (float64, error) {
	b0, t0, err := readCPUStat()
	if err != nil {
		return 0, err
	}
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(d):
	}
	b1, t1, err := readCPUStat()
	if err != nil {
		return 0, err
	}
	if t1 <= t0 {
		return 0, fmt.Errorf("no CPU time passed")
	}
	return float64(b1-b0) / float64(t1-t0), nil
}

func readCPUStat() (busy, total int64, err error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0, fmt.Errorf("/proc/stat is empty")
	}
	return parseCPUStatLine(sc.Text())
}

// parseCPUStatLine reads the aggregate "cpu" line: busy is everything but
// idle and iowait.
func parseCPUStatLine(line string) (busy, total int64, err error) {
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	for i, s := range f[1:] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, nil
}
