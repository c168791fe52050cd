package main

import (
	"fmt"
	"testing"

	"github.com/anishathalye/porcupine"
)

// The persistent (CP) history the reliability suite checks: services
// created and deleted through the HTTP API. Both answers depend on the
// state the Raft log reached, so a history of them alone is enough to
// judge linearizability: create answers ok, or "already exists";
// delete answers ok, or "not exist".
type linOp struct {
	key    int
	create bool
}

// linOut is what an op answered.
type linOut uint8

const (
	linOK linOut = iota
	linConflict
	linNotFound
	// linUnknown: the op failed in a way that leaves its fate open (a
	// timeout, a 503 after the leader may have appended it). It is kept
	// with a return at the end of the history, so it may take effect at
	// any point after its call, or not at all.
	linUnknown
)

func (o linOut) String() string {
	return [...]string{"ok", "exists", "not-found", "unknown"}[o]
}

// serviceSetModel keeps, per key, whether the service exists.
var serviceSetModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		by := map[int][]porcupine.Operation{}
		var keys []int
		for _, op := range h {
			k := op.Input.(linOp).key
			if _, ok := by[k]; !ok {
				keys = append(keys, k)
			}
			by[k] = append(by[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, by[k])
		}
		return out
	},
	Init: func() interface{} { return false },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		exists, in, out := state.(bool), input.(linOp), output.(linOut)
		switch {
		case out == linUnknown:
			return true, in.create
		case in.create && out == linOK:
			return !exists, true
		case in.create && out == linConflict:
			return exists, exists
		case !in.create && out == linOK:
			return exists, false
		case !in.create && out == linNotFound:
			return !exists, exists
		}
		return false, exists
	},
	DescribeOperation: func(input, output interface{}) string {
		in := input.(linOp)
		verb := "delete"
		if in.create {
			verb = "create"
		}
		return fmt.Sprintf("%s(%d) -> %s", verb, in.key, output.(linOut))
	},
}

// TestServiceSetModel makes sure the checker can fail: a second
// successful create with no delete between is not linearizable, while an
// op of unknown fate fits either way.
func TestServiceSetModel(t *testing.T) {
	op := func(id int, create bool, out linOut, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: id, Input: linOp{key: 1, create: create}, Output: out, Call: call, Return: ret}
	}
	bad := []porcupine.Operation{op(0, true, linOK, 0, 1), op(1, true, linOK, 2, 3)}
	if porcupine.CheckOperations(serviceSetModel, bad) {
		t.Fatal("two successful creates accepted")
	}
	good := []porcupine.Operation{op(0, true, linOK, 0, 1), op(1, false, linUnknown, 2, 10), op(2, true, linOK, 4, 5)}
	if !porcupine.CheckOperations(serviceSetModel, good) {
		t.Fatal("a create after a delete of unknown fate refused")
	}
	stale := []porcupine.Operation{op(0, true, linOK, 0, 1), op(1, false, linNotFound, 2, 3)}
	if porcupine.CheckOperations(serviceSetModel, stale) {
		t.Fatal("a delete that missed a finished create accepted")
	}
}
