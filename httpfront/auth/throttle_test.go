package auth

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// failLog counts the failed password checks logged.
type failLog struct {
	mu sync.Mutex
	n  int
}

func (h *failLog) Levels() []logrus.Level { return logrus.AllLevels }
func (h *failLog) Fire(e *logrus.Entry) error {
	if e.Message == "failed password check" && e.Data["user"] != nil && e.Data["source"] != nil {
		h.mu.Lock()
		h.n++
		h.mu.Unlock()
	}
	return nil
}

func tooMany(err error) bool {
	return errors.Is(err, ErrDenied) && strings.Contains(err.Error(), "too many failed logins")
}

// TestLoginsBackOffPerSource: after five wrong passwords from one address,
// it must wait 1 s, then 2 s, ..., and the waits cost no bcrypt; another
// address is not held up, and failures are logged.
func TestLoginsBackOffPerSource(t *testing.T) {
	g, cat, clk := testGuard(t, nil)
	hook := &failLog{}
	g.log.Logger.AddHook(hook) // AddHook locks: the guard's goroutine logs too
	for i := 0; i < 5; i++ {
		addUser(t, g, cat, "u"+strconv.Itoa(i), "pass-"+strconv.Itoa(i))
	}
	// Five wrong guesses at five users from one address.
	for i := 0; i < 5; i++ {
		if _, err := g.Login("u"+strconv.Itoa(i), "guess", "192.0.2.1"); err == nil || tooMany(err) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if _, err := g.Login("u0", "pass-0", "192.0.2.1"); !tooMany(err) {
		t.Fatalf("sixth try from the address: %v, want a wait", err)
	}
	if s, err := g.Login("u0", "pass-0", "192.0.2.2"); err != nil || s.Token == "" {
		t.Fatalf("another address: %v", err)
	}
	clk.t = clk.t.Add(1100 * time.Millisecond)
	if _, err := g.Login("u1", "guess", "192.0.2.1"); err == nil || tooMany(err) {
		t.Fatalf("after the wait a guess runs: %v", err)
	}
	// The sixth failure doubles the wait: 1 s is not enough now.
	clk.t = clk.t.Add(1100 * time.Millisecond)
	if _, err := g.Login("u1", "pass-1", "192.0.2.1"); !tooMany(err) {
		t.Fatalf("1.1 s after the sixth failure: %v, want a wait of 2 s", err)
	}
	clk.t = clk.t.Add(time.Second)
	if _, err := g.Login("u1", "pass-1", "192.0.2.1"); err != nil {
		t.Fatalf("2.2 s after: %v", err)
	}
	if hook.n != 6 {
		t.Fatalf("%d failures logged, want 6", hook.n)
	}
}

// TestLoginsBackOffPerUser: guesses at one user from many addresses make
// that user wait, up to a minute, and a good password clears the count.
func TestLoginsBackOffPerUser(t *testing.T) {
	g, cat, clk := testGuard(t, nil)
	addUser(t, g, cat, "bob", "bob-pass-1")
	for i := 0; i < 5; i++ {
		if _, err := g.Login("bob", "guess", "198.51.100."+strconv.Itoa(i)); err == nil || tooMany(err) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if _, err := g.Check(Credentials{Username: "bob", Password: "bob-pass-1", Source: "198.51.100.99"}, "public", Authenticated); !tooMany(err) {
		t.Fatalf("a sixth address, password on the request: %v, want a wait", err)
	}
	for i := 5; i < 20; i++ {
		clk.t = clk.t.Add(2 * time.Minute)
		_, _ = g.Login("bob", "guess", "198.51.100."+strconv.Itoa(i))
	}
	if w := wait(20, userBackoff); w != time.Minute {
		t.Fatalf("per-user wait after 20 failures: %v", w)
	}
	clk.t = clk.t.Add(time.Minute + time.Second)
	if _, err := g.Login("bob", "bob-pass-1", "198.51.100.99"); err != nil {
		t.Fatalf("after the longest wait: %v", err)
	}
	if _, err := g.Login("bob", "guess", "198.51.100.98"); err == nil || tooMany(err) {
		t.Fatalf("a good password clears the user's count: %v", err)
	}
}

// TestPasswordCacheEvictsOneAtATime: wrong passwords never enter the
// cache, and a full cache drops only its least recently used entry.
func TestPasswordCacheEvictsOneAtATime(t *testing.T) {
	g, cat, _ := testGuard(t, func(c *Config) { c.CacheSize = 2 })
	for _, u := range []string{"a", "b", "c"} {
		addUser(t, g, cat, u, u+"-pass-1")
	}
	login := func(u string) {
		t.Helper()
		if _, err := g.Login(u, u+"-pass-1", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	login("a")
	login("b")
	for i := 0; i < 4; i++ {
		_, _ = g.Login("a", "wrong-"+strconv.Itoa(i), "127.0.0.9")
	}
	if n := g.cache.len(); n != 2 {
		t.Fatalf("wrong passwords changed the cache: %d entries", n)
	}
	login("a") // a is now the most recent
	login("c") // evicts b alone
	st := g.State()
	has := func(u string) bool {
		usr, _ := st.FindUser(u)
		return g.cache.matched(keyOf(u, u+"-pass-1"), usr.Hash)
	}
	if !has("a") || has("b") || !has("c") {
		t.Fatalf("cache after a full insert: a=%v b=%v c=%v, want a and c kept", has("a"), has("b"), has("c"))
	}
}
