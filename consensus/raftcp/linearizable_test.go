package raftcp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"sextant/naming"
)

// The model: a set of linKeys persistent instances of one service, as a
// bit mask. Writes register or deregister one instance; reads return the
// whole set.
const linKeys = 4

type linInput struct {
	write bool
	add   bool // register (true) or deregister (false); writes only
	key   int
}

// linOutput is a read's result; writes have none.
type linOutput struct {
	mask uint8
}

var registerSetModel = porcupine.Model{
	Init: func() interface{} { return uint8(0) },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		st, in := state.(uint8), input.(linInput)
		if in.write {
			if in.add {
				return true, st | 1<<in.key
			}
			return true, st &^ (1 << in.key)
		}
		return output.(linOutput).mask == st, st
	},
	DescribeOperation: func(input, output interface{}) string {
		in := input.(linInput)
		switch {
		case in.write && in.add:
			return fmt.Sprintf("register(%d)", in.key)
		case in.write:
			return fmt.Sprintf("deregister(%d)", in.key)
		}
		return fmt.Sprintf("read() -> %04b", output.(linOutput).mask)
	},
}

type writeResult int

const (
	writeNotDone writeResult = iota // definitely not applied
	writeDone
	writeUnknown // failed with ErrUnavailable after reaching a leader: may be applied
)

// linWrite applies one write through the leader, following NotLeader
// answers (nothing was written) until deadline. It does not retry an
// unavailable error: that write's fate is unknown.
func linWrite(t *testing.T, leaderNode func() (*Node, *naming.Catalog), in linInput, deadline time.Time) writeResult {
	op := regOp(in.key)
	if !in.add {
		op = deregOp(in.key)
	}
	for time.Now().Before(deadline) {
		n, _ := leaderNode()
		if n == nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		err := n.Apply(context.Background(), op)
		var nl *NotLeaderError
		switch {
		case err == nil:
			return writeDone
		case errors.As(err, &nl):
			continue
		case errors.Is(err, naming.ErrUnavailable):
			return writeUnknown
		default:
			t.Errorf("write %+v: %v", in, err)
			return writeUnknown
		}
	}
	return writeNotDone
}

// TestLinearizable runs concurrent persistent registrations, deregistrations
// and consistent reads (ReadIndex, entering at any node: a follower sends
// them to the leader it knows) against three nodes while a nemesis partitions,
// heals, stops and restarts nodes, and checks the history with porcupine.
// A write that failed with ErrUnavailable may or may not have happened: it
// is recorded without a return (pending until the end of the history).
func TestLinearizable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for several seconds")
	}
	c := newCluster(t, clusterOpts{n: 3, disk: true})
	c.leader(10 * time.Second)

	const (
		clients  = 4
		runFor   = 5 * time.Second
		maxOps   = 1000
		opBudget = 3 * time.Second
	)
	t0 := time.Now()
	now := func() int64 { return int64(time.Since(t0)) }
	var (
		mu        sync.Mutex
		history   []porcupine.Operation
		pending   []porcupine.Operation // indeterminate writes
		nextID    atomic.Int64
		started   atomic.Int64
		okWrites  atomic.Int64
		okReads   atomic.Int64
		uncertain atomic.Int64
		// viaFollower counts the reads that entered at a follower.
		viaFollower atomic.Int64
	)
	nextID.Store(clients)
	stop := make(chan struct{})

	// leaderNode returns a node that currently believes it leads.
	leaderNode := func() (*Node, *naming.Catalog) {
		for i := range c.members {
			if n, cat, up := c.get(i); up && n.IsLeader() {
				return n, cat
			}
		}
		return nil, nil
	}

	// readNode is where a read entering at node i is served: i itself, or
	// the leader i names (via is then true); nil when i is down or knows
	// no leader.
	readNode := func(i int) (*Node, *naming.Catalog, bool) {
		n, cat, up := c.get(i)
		if !up {
			return nil, nil, false
		}
		if n.IsLeader() {
			return n, cat, false
		}
		id := n.Leader()
		for j, m := range c.members {
			if m.peer.ID == id {
				ln, lcat, lup := c.get(j)
				if lup {
					return ln, lcat, true
				}
			}
		}
		return nil, nil, false
	}

	var wg sync.WaitGroup
	for cl := 0; cl < clients; cl++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(id), 7))
			for started.Add(1) <= maxOps {
				select {
				case <-stop:
					return
				case <-time.After(time.Duration(5+rng.IntN(20)) * time.Millisecond): // spread the ops over the faults
				}
				in := linInput{write: rng.IntN(3) > 0, add: rng.IntN(2) == 0, key: rng.IntN(linKeys)}
				call := now()
				deadline := time.Now().Add(opBudget)
				if in.write {
					switch linWrite(t, leaderNode, in, deadline) {
					case writeDone:
						okWrites.Add(1)
						mu.Lock()
						history = append(history, porcupine.Operation{ClientId: id, Input: in, Call: call, Return: now()})
						mu.Unlock()
					case writeUnknown:
						uncertain.Add(1)
						mu.Lock()
						pending = append(pending, porcupine.Operation{ClientId: id, Input: in, Call: call})
						mu.Unlock()
						id = int(nextID.Add(1)) // the old id may still have an op in flight
					}
					continue
				}
				// A consistent read enters at any node; a follower sends it
				// to the leader it knows (as the HTTP front redirects), which
				// serves it by ReadIndex.
				n, cat, via := readNode(rng.IntN(len(c.members)))
				if n == nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				ctx, cancel := context.WithDeadline(context.Background(), deadline)
				err := n.ReadIndex(ctx)
				cancel()
				if err != nil {
					continue // a failed read has no effect; leave it out
				}
				if via {
					viaFollower.Add(1)
				}
				var mask uint8
				if s, ok := cat.Service(testService); ok {
					for k := 0; k < linKeys; k++ {
						if s.Find(regOp(k).Instance.Key()) != nil {
							mask |= 1 << k
						}
					}
				}
				ret := now()
				okReads.Add(1)
				mu.Lock()
				history = append(history, porcupine.Operation{ClientId: id, Input: in, Call: call, Output: linOutput{mask}, Return: ret})
				mu.Unlock()
			}
		}(cl)
	}

	// Nemesis: one fault at a time, each followed by a repair.
	rng := rand.New(rand.NewPCG(42, 42))
	faults := 0
	for end := time.Now().Add(runFor); time.Now().Before(end) && started.Load() < maxOps; {
		time.Sleep(200 * time.Millisecond)
		victim := rng.IntN(3)
		if rng.IntN(2) == 0 {
			for i := range c.members {
				if n, _, up := c.get(i); up && n.IsLeader() {
					victim = i
				}
			}
		}
		if rng.IntN(2) == 0 {
			c.isolate(victim)
			time.Sleep(300 * time.Millisecond)
			c.heal()
		} else {
			c.stop(victim)
			time.Sleep(300 * time.Millisecond)
			c.start(victim)
		}
		faults++
	}
	close(stop)
	wg.Wait()

	end := now() + 1
	for _, op := range pending {
		op.Return = end
		op.Output = nil
		history = append(history, op)
	}
	t.Logf("%d faults; %d writes ok, %d reads ok (%d entered at a follower), %d writes indeterminate",
		faults, okWrites.Load(), okReads.Load(), viaFollower.Load(), uncertain.Load())
	if okWrites.Load() < 30 || okReads.Load() < 10 {
		t.Fatalf("too little progress to judge: %d writes, %d reads", okWrites.Load(), okReads.Load())
	}
	res := porcupine.CheckOperationsTimeout(registerSetModel, history, 30*time.Second)
	if res != porcupine.Ok {
		t.Fatalf("history of %d ops is not linearizable (%s)", len(history), res)
	}

	// After the faults stop every node converges to the same catalog.
	c.leader(10 * time.Second)
	c.mustApply(regOp(0))
	c.converged(10*time.Second, c.leader(10*time.Second))
}
