package main

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"
)

var longRun = flag.Bool("sextant.long", false, "run the long reliability suite (also SEXTANT_LONG=1)")

// suiteSize is how much a reliability run does.
type suiteSize struct {
	nemesis    time.Duration // time under faults
	services   int           // ephemeral services
	beaters    int           // long-lived beating instances
	beatEvery  time.Duration
	churnEvery time.Duration // a short-lived instance starts this often
	linClients int
	linKeys    int
}

var (
	shortSuite = suiteSize{nemesis: 60 * time.Second, services: 6, beaters: 36, beatEvery: 2 * time.Second,
		churnEvery: 400 * time.Millisecond, linClients: 4, linKeys: 4}
	longSuite = suiteSize{nemesis: 10 * time.Minute, services: 20, beaters: 300, beatEvery: 2 * time.Second,
		churnEvery: 100 * time.Millisecond, linClients: 8, linKeys: 8}
)

// TestReliability is the fault-injection suite: three real nodes, each in
// a network namespace of its own, driven through the HTTP API by
// concurrent clients while a nemesis partitions nodes off (blackhole
// routes), cuts the link between two nodes only (a partial partition:
// the third sees both), slows their links (tc netem delay and loss), pauses them
// (SIGSTOP/SIGCONT), stops them in short bursts (stutter: a slowed
// owner), kills them (SIGKILL) and restarts them on their data.
// SEXTANT_SKEW=60s runs the nodes' clocks 30 s behind, even and 30 s
// ahead (SEXTANT_CLOCK_OFFSET per process) for the whole run.
// Afterwards, with every fault repaired:
//
//   - every acknowledged ephemeral registration whose client still beats
//     is listed, healthy, by every node;
//   - no node's beat checker removed or marked unhealthy an instance whose
//     client beat throughout (every beat answered);
//   - at no moment did two nodes judge (sweep) the same service;
//   - no acknowledged deregistration is undone: the instance is absent
//     from every node and stays absent, and (with clocks in step) none
//     was listed again more than 5 s after it was acknowledged; each that
//     was is reported with its client's requests and what brought it back;
//   - every node lists every service alike, and answers DNS alike;
//   - the history of CP writes (services created and deleted on random
//     nodes) is linearizable (porcupine).
//
// About 2 minutes; -sextant.long (or SEXTANT_LONG=1) runs 10 minutes of
// faults with more clients. -short skips it.
func TestReliability(t *testing.T) {
	if testing.Short() {
		t.Skip("the reliability suite runs for about two minutes; -short skips it")
	}
	size := shortSuite
	if *longRun || os.Getenv("SEXTANT_LONG") == "1" {
		size = longSuite
	}
	c := startRCluster(t, 3)
	w := newWorkload(c)
	t.Cleanup(w.finish)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %v of faults", seed, size.nemesis)
	for i := 0; i < size.beaters; i++ {
		r := instRef{svc: fmt.Sprintf("rel-svc-%d", i%size.services), ip: fmt.Sprintf("10.77.%d.%d", i/250, i%250+1), port: 8080}
		w.wg.Add(1)
		go w.beater(r, size.beatEvery, seed+uint64(i))
	}
	w.writers.Add(1)
	go w.churn(size.services, size.churnEvery, seed)
	for i := 0; i < size.linClients; i++ {
		w.writers.Add(1)
		go w.linClient(i, size.linKeys, seed+uint64(1000+i))
	}

	faults := c.nemesis(size.nemesis, seed)
	c.repairAll()
	nFaults := 0
	for _, n := range faults {
		nFaults += n
	}

	// The churn and the CP clients stop; the beating clients go on, as
	// live clients do, while the cluster settles and is checked.
	w.stopWriting()

	violations := checkConvergence(t, w, size)
	violations += checkLinearizable(t, w)
	violations += checkOneJudge(t, c)
	violations += checkBeatersUnharmed(t, w)
	w.logRevivals(t)
	c.keepLogs(os.Getenv("SEXTANT_KEEP_LOGS"))
	t.Logf("faults: %d %v", nFaults, faults)
	t.Logf("ops: %d registrations acknowledged, %d beats ok, %d beats failed over all nodes, %d re-registrations after 20404, %d deregistrations, %d churn instances unresolved",
		w.registers.Load(), w.beatsOK.Load(), w.beatsFailed.Load(), w.reregisters.Load(), w.deregs.Load(), w.unresolved)
	t.Logf("CP ops: %d ok, %d exists, %d not-found, %d of unknown fate",
		w.linOK.Load(), w.linConflict.Load(), w.linNotFound.Load(), w.linUnknown.Load())
	if violations > 0 {
		t.Fatalf("%d violations", violations)
	}
	t.Log("no violations")
}
