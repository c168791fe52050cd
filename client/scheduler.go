package client

import (
	"context"
	"sync"
	"time"

	"sextant/internal/dueq"
)

// scheduler runs keyed, repeating tasks on a bounded pool of workers. A
// task runs at its due time (later when every worker is busy), returns
// the delay to its next run (negative: done) and never runs twice at once.
type scheduler struct {
	workers int
	now     func() time.Time

	mu    sync.Mutex
	tasks map[string]*task
	queue dueq.Queue[*task]
	wake  chan struct{}
	work  chan *task
	wg    sync.WaitGroup
	stop  context.CancelFunc
	ctx   context.Context
}

type task struct {
	dueq.Entry // due time and place in the queue
	key        string
	fn         func(ctx context.Context) time.Duration
	running    bool
	gone       bool // cancelled
	again      bool // runNow while running
}

func newScheduler(workers int) *scheduler {
	return &scheduler{workers: workers, now: time.Now, tasks: map[string]*task{},
		wake: make(chan struct{}, 1), work: make(chan *task)}
}

// start runs the dispatcher and the workers until close.
func (s *scheduler) start(ctx context.Context) {
	s.ctx, s.stop = context.WithCancel(ctx)
	s.wg.Add(1 + s.workers)
	go s.dispatch()
	for i := 0; i < s.workers; i++ {
		go s.worker()
	}
}

// close stops dispatching, cancels the context of running tasks and waits
// for them.
func (s *scheduler) close() {
	if s.stop == nil {
		return
	}
	s.stop()
	s.wg.Wait()
}

// schedule adds the task under key, due after delay, replacing the function
// and due time of a task already under that key.
func (s *scheduler) schedule(key string, delay time.Duration, fn func(context.Context) time.Duration) {
	s.mu.Lock()
	t, ok := s.tasks[key]
	if !ok {
		t = &task{key: key}
		s.tasks[key] = t
	}
	t.fn, t.gone = fn, false
	t.Due = s.now().Add(delay)
	if !t.running {
		if t.Queued() {
			s.queue.Fix(t)
		} else {
			s.queue.Push(t)
		}
	}
	s.mu.Unlock()
	s.poke()
}

// has reports whether a task is held under key.
func (s *scheduler) has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.tasks[key]
	return ok
}

// runNow makes the task under key due at once (after its current run).
func (s *scheduler) runNow(key string) {
	s.mu.Lock()
	t, ok := s.tasks[key]
	if ok {
		if t.running {
			t.again = true
		} else if t.Queued() {
			t.Due = s.now()
			s.queue.Fix(t)
		}
	}
	s.mu.Unlock()
	s.poke()
}

// cancel drops the task under key; a run in progress finishes.
func (s *scheduler) cancel(key string) {
	s.mu.Lock()
	if t, ok := s.tasks[key]; ok {
		t.gone = true
		if t.Queued() {
			s.queue.Remove(t)
		}
		delete(s.tasks, key)
	}
	s.mu.Unlock()
}

func (s *scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *scheduler) dispatch() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var next *task
		wait := time.Hour
		if head, ok := s.queue.Peek(); ok {
			if d := head.Due.Sub(s.now()); d > 0 {
				wait = d
			} else {
				next = s.queue.Pop()
				next.running = true
			}
		}
		s.mu.Unlock()
		if next != nil {
			select {
			case s.work <- next:
			case <-s.ctx.Done():
				return
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-s.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-s.ctx.Done():
			return
		}
	}
}

func (s *scheduler) worker() {
	defer s.wg.Done()
	for {
		var t *task
		select {
		case t = <-s.work:
		case <-s.ctx.Done():
			return
		}
		s.mu.Lock()
		fn := t.fn
		s.mu.Unlock()
		next := fn(s.ctx)
		s.mu.Lock()
		t.running = false
		if t.again {
			t.again, next = false, 0
		}
		if t.gone || next < 0 || s.ctx.Err() != nil {
			if !t.gone && s.tasks[t.key] == t {
				delete(s.tasks, t.key)
			}
		} else {
			t.Due = s.now().Add(next)
			s.queue.Push(t)
		}
		s.mu.Unlock()
		s.poke()
	}
}
