package dueq

import (
	"container/heap"
	"time"
)

// Entry is embedded by the items of a Queue: their due time and their place
// in the queue. Its zero value is an item that is not queued.
type Entry struct {
	// Due is when the item is due. Change it only while the item is not
	// queued, or call Queue.Fix after changing it.
	Due  time.Time
	slot int // position in the queue + 1; 0 when not queued
}

// Queued reports whether the item is in a queue.
func (e *Entry) Queued() bool { return e.slot > 0 }

func (e *Entry) entry() *Entry { return e }

// Item is what a Queue holds: a pointer to a struct that embeds Entry.
type Item interface{ entry() *Entry }

// Queue is a min-heap of items by Entry.Due. The zero value is empty.
type Queue[T Item] struct{ h items[T] }

// Len returns the number of queued items.
func (q *Queue[T]) Len() int { return len(q.h) }

// At returns the item at position i of the heap (0 is the earliest; the
// children of i are 2i+1 and 2i+2, neither due before i).
func (q *Queue[T]) At(i int) T { return q.h[i] }

// Peek returns the earliest item, if any.
func (q *Queue[T]) Peek() (T, bool) {
	if len(q.h) == 0 {
		var zero T
		return zero, false
	}
	return q.h[0], true
}

// Push queues an item that is not queued.
func (q *Queue[T]) Push(t T) { heap.Push(&q.h, t) }

// Pop removes and returns the earliest item; the queue must not be empty.
func (q *Queue[T]) Pop() T { return heap.Pop(&q.h).(T) }

// Fix restores the order after the due time of a queued item changed.
func (q *Queue[T]) Fix(t T) { heap.Fix(&q.h, t.entry().slot-1) }

// Remove takes a queued item out of the queue.
func (q *Queue[T]) Remove(t T) { heap.Remove(&q.h, t.entry().slot-1) }

// items implements heap.Interface.
type items[T Item] []T

func (h items[T]) Len() int           { return len(h) }
func (h items[T]) Less(i, j int) bool { return h[i].entry().Due.Before(h[j].entry().Due) }
func (h items[T]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].entry().slot, h[j].entry().slot = i+1, j+1
}

func (h *items[T]) Push(x any) {
	t := x.(T)
	t.entry().slot = len(*h) + 1
	*h = append(*h, t)
}

func (h *items[T]) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	var zero T
	old[n-1] = zero
	t.entry().slot = 0
	*h = old[:n-1]
	return t
}
