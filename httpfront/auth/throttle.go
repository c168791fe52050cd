package auth

import (
	"fmt"
	"sync"
	"time"
)

// throttle slows password guessing down, per source address and per user
// name. Each failed check counts against both; after freeFails failures
// (counted over failWindow) the next check of that source or user waits
// base, doubling with every further failure up to its cap, and is refused
// outright while it must wait: no bcrypt runs for it, so guesses cost the
// node nothing and cannot crowd real logins out of the bcrypt slots. A
// good password clears the user's count (not the source's: a source may
// not buy more guesses at other users with one account it holds). Checks
// in flight count as failures to come (begin), so a burst of guesses at
// once is cut at freeFails too.
//
// It holds at most maxEntries counts; a full table first drops the counts
// older than failWindow, then refuses new sources and users until some
// expire, which only slows guessing further.
type throttle struct {
	mu       sync.Mutex
	counts   map[string]*strikes
	inflight map[string]int
}

type strikes struct {
	fails int
	last  time.Time
}

const (
	freeFails     = 5
	failWindow    = 15 * time.Minute
	backoffBase   = time.Second
	sourceBackoff = 5 * time.Minute // cap per source
	userBackoff   = time.Minute     // cap per user: a victim is locked out at most this long
	maxEntries    = 1 << 16
)

func newThrottle() *throttle {
	return &throttle{counts: map[string]*strikes{}, inflight: map[string]int{}}
}

// wait is how long a count of fails must wait after its last failure.
func wait(fails int, limit time.Duration) time.Duration {
	if fails < freeFails {
		return 0
	}
	d := backoffBase
	for i := freeFails; i < fails && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// begin starts a password check of user from source at now, or says why
// it may not run. Checks in flight count as failures to come: a source
// below freeFails failures may run as many at once as it has free
// failures left; one above must wait out its backoff and run one at a time.
func (t *throttle) begin(source, user string, now time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range []struct {
		key   string
		limit time.Duration
		what  string
	}{{"s\x00" + source, sourceBackoff, "this address"}, {"u\x00" + user, userBackoff, "this user"}} {
		if s := t.counts[k.key]; s != nil && now.Sub(s.last) <= failWindow {
			if left := s.last.Add(wait(s.fails, k.limit)).Sub(now); left > 0 {
				return fmt.Errorf("too many failed logins for %s: retry in %s", k.what, left.Round(time.Second)+time.Second)
			}
		}
	}
	fails := 0
	if s := t.counts["s\x00"+source]; s != nil && now.Sub(s.last) <= failWindow {
		fails = s.fails
	}
	if n := t.inflight[source]; n > 0 && n+fails >= max(freeFails, fails+1) {
		return fmt.Errorf("too many failed logins for this address: too many password checks from it at once; retry later")
	}
	t.inflight[source]++
	return nil
}

// end finishes a check begun with begin and counts its outcome; it
// returns the failures now counted against the source.
func (t *throttle) end(source, user string, ok bool, now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.releaseLocked(source)
	if ok {
		delete(t.counts, "u\x00"+user)
		return 0
	}
	t.strike("u\x00"+user, now)
	return t.strike("s\x00"+source, now)
}

// cancel finishes a check begun with begin that did not run.
func (t *throttle) cancel(source string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.releaseLocked(source)
}

func (t *throttle) releaseLocked(source string) {
	if t.inflight[source]--; t.inflight[source] <= 0 {
		delete(t.inflight, source)
	}
}

func (t *throttle) strike(key string, now time.Time) int {
	s := t.counts[key]
	if s != nil && now.Sub(s.last) > failWindow {
		s.fails = 0
	}
	if s == nil {
		if len(t.counts) >= maxEntries {
			for k, old := range t.counts {
				if now.Sub(old.last) > failWindow {
					delete(t.counts, k)
				}
			}
		}
		if len(t.counts) >= maxEntries {
			return 0
		}
		s = &strikes{}
		t.counts[key] = s
	}
	s.fails++
	s.last = now
	return s.fails
}
