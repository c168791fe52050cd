package dueq

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

type job struct {
	Entry
	name int
}

// TestQueueOrdersByDue: whatever the pushes, fixes and removals, items come
// out earliest first, and Queued tells which are in.
func TestQueueOrdersByDue(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Unix(1000, 0)
	for round := 0; round < 200; round++ {
		var q Queue[*job]
		jobs := make([]*job, 40)
		for i := range jobs {
			jobs[i] = &job{name: i}
			jobs[i].Due = base.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
			q.Push(jobs[i])
		}
		for i := 0; i < 20; i++ {
			j := jobs[rng.IntN(len(jobs))]
			if !j.Queued() {
				continue
			}
			if rng.IntN(2) == 0 {
				j.Due = base.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
				q.Fix(j)
			} else {
				q.Remove(j)
				if j.Queued() {
					t.Fatal("a removed item says it is queued")
				}
			}
		}
		want := 0
		for _, j := range jobs {
			if j.Queued() {
				want++
			}
		}
		if q.Len() != want {
			t.Fatalf("Len %d, %d queued", q.Len(), want)
		}
		var out []time.Time
		for q.Len() > 0 {
			if head, ok := q.Peek(); !ok || head != q.At(0) {
				t.Fatal("Peek is not the first item")
			}
			j := q.Pop()
			if j.Queued() {
				t.Fatal("a popped item says it is queued")
			}
			out = append(out, j.Due)
		}
		if len(out) != want || !slices.IsSortedFunc(out, func(a, b time.Time) int { return a.Compare(b) }) {
			t.Fatalf("round %d: %d items out of order: %v", round, len(out), out)
		}
		if _, ok := q.Peek(); ok {
			t.Fatal("Peek on an empty queue")
		}
	}
}
