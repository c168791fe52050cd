package consensus

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"sextant/naming"
)

// crashChildEnv makes the test binary run crashChild instead of the tests.
const crashChildEnv = "SEXTANT_STANDALONE_CRASH_DIR"

// TestMain lets TestKill9UnderConcurrentWrites run the store in a child
// process that it can kill.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

// crashChild writes persistent registrations from 8 writers until it is
// killed. It prints "ack IP" once Apply returned nil and "seen IP" once a
// reader of the catalog saw the instance.
func crashChild(dir string) {
	cfg := DefaultStandaloneConfig()
	cfg.DataDir = dir
	cfg.SnapshotEvery = 50 // compactions too
	cat := naming.NewCatalog()
	s, err := NewStandalone(cfg, cat, nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	s.Start(context.Background())
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	say := func(what, ip string) {
		mu.Lock()
		fmt.Fprintln(out, what, ip)
		out.Flush()
		mu.Unlock()
	}
	seen := map[string]bool{}
	var smu sync.Mutex
	cat.Watch(func(k naming.ServiceKey) {
		sv, ok := cat.Service(k)
		if !ok {
			return
		}
		smu.Lock()
		defer smu.Unlock()
		for _, in := range sv.Instances {
			if !seen[in.IP] {
				seen[in.IP] = true
				say("seen", in.IP)
			}
		}
	})
	round := os.Getenv(crashChildEnv + "_ROUND")
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20000; i++ {
				ip := fmt.Sprintf("10.%s%d.%d.%d", round, w, i/250, i%250+1)
				op := naming.Op{Kind: naming.OpRegister, Service: svcA, Instance: inst(ip, false)}
				if err := s.Apply(context.Background(), op); err == nil {
					say("ack", ip)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Println("done")
}

// kill -9 at a random point under concurrent writes: after a restart,
// every acknowledged write is there, and so is every write a reader saw.
func TestKill9UnderConcurrentWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := rand.New(rand.NewSource(time.Now().UnixNano()))
	want := map[string]string{}
	for round := 0; round < 3; round++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, fmt.Sprintf("%s_ROUND=%d", crashChildEnv, round+1))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Let it write for a while (at least a few hundred answers), then kill it.
		need := 200 + r.Intn(800)
		deadline := time.After(20 * time.Second)
		n := 0
	read:
		for n < need {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				if f := strings.Fields(l); len(f) == 2 {
					want[f[1]] = f[0]
					n++
				} else if strings.HasPrefix(l, "error") {
					t.Fatal(l)
				}
			case <-deadline:
				t.Fatalf("round %d: the child answered %d writes in 20 s", round, n)
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for l := range lines { // what it said before it died
			if f := strings.Fields(l); len(f) == 2 {
				want[f[1]] = f[0]
			}
		}
		cmd.Wait()
		cat := naming.NewCatalog()
		s, err := NewStandalone(testConfig(dir), cat, quietLog())
		if err != nil {
			t.Fatalf("round %d: restart after kill -9: %v", round, err)
		}
		sv, _ := cat.Service(svcA)
		for ip, what := range want {
			if sv == nil || sv.Find(inst(ip, false).Key()) == nil {
				t.Fatalf("round %d: %s %s is lost after kill -9", round, what, ip)
			}
		}
		s.Close()
		t.Logf("round %d: %d writes acknowledged or seen, all kept", round, len(want))
	}
}
