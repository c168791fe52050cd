package main

import (
	"bufio"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseDnsperf(t *testing.T) {
	out := `Statistics:

  Queries sent:         800123
  Queries completed:    800100 (100.00%)
  Queries lost:         23 (0.00%)

  Response codes:       NOERROR 800100 (100.00%)
  Average packet size:  request 40, response 150
  Run time (s):         10.000912
  Queries per second:   80002.703721
`
	r, err := parseDnsperf([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.QPS < 80002 || r.QPS > 80003 || r.Lost != 23 || !strings.HasPrefix(r.Rcodes, "NOERROR") {
		t.Errorf("parsed %+v", r)
	}
	if _, err := parseDnsperf([]byte("Error: could not open")); err == nil {
		t.Error("output without statistics accepted")
	}
}

func TestParseWrk(t *testing.T) {
	out := "Running 10s test @ http://127.0.0.1:1/x\n  2 threads and 64 connections\n  640000 requests in 10.00s, 1.00GB read\nRequests/sec:  64000.12\nTransfer/sec:    100.00MB\n"
	if rps, err := parseWrk([]byte(out)); err != nil || rps != 64000.12 {
		t.Errorf("rps %v err %v", rps, err)
	}
	if _, err := parseWrk([]byte(strings.Replace(out, "Transfer", "Non-2xx or 3xx responses: 5\nTransfer", 1))); err == nil {
		t.Error("non-2xx answers not reported")
	}
}

func TestParseProc(t *testing.T) {
	m, err := parseMemStatus(bufio.NewScanner(strings.NewReader("Name:\tsextant\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t9\n")))
	if err != nil || m.RSS != 100<<20 || m.HWM != 200<<20 {
		t.Errorf("mem %+v err %v", m, err)
	}
	if _, err := parseMemStatus(bufio.NewScanner(strings.NewReader("Name:\tx\n"))); err == nil {
		t.Error("status without VmRSS accepted")
	}
	// The command name may contain spaces and parentheses.
	stat := "4242 (a) b) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 9 0"
	if d, err := parseStatCPU(stat); err != nil || d != 4*time.Second {
		t.Errorf("cpu %v err %v", d, err)
	}
	busy, total, err := parseCPUStatLine("cpu  100 5 50 800 40 3 2 0 0 0")
	if err != nil || total != 1000 || busy != 160 {
		t.Errorf("busy %d total %d err %v", busy, total, err)
	}
}

func TestParseBenchAllocs(t *testing.T) {
	out := `goos: linux
BenchmarkResolveA/resolve-2         	  20000	      1200 ns/op	     312 B/op	       4 allocs/op
BenchmarkResolveA/resolve+pack-2    	  20000	      2100 ns/op	     312 B/op	       5 allocs/op
BenchmarkResolveSRV/resolve+pack-2  	  20000	      5129 ns/op	     900 B/op	       6 allocs/op
PASS`
	n, line, err := parseBenchAllocs([]byte(out), regexp.MustCompile(`resolve\+pack`))
	if err != nil || n != 6 || !strings.Contains(line, "BenchmarkResolveSRV/resolve+pack-2") {
		t.Errorf("n %d line %q err %v", n, line, err)
	}
	if _, _, err := parseBenchAllocs([]byte(out), regexp.MustCompile(`nothing`)); err == nil {
		t.Error("no match accepted")
	}
}

func TestBeatPlanSpreadsBeats(t *testing.T) {
	p := beatPlan{n: 1000, perService: 100, interval: 5 * time.Second}
	start := time.Unix(0, 0)
	if got := p.due(start, 0, 500).Sub(start); got != 2500*time.Millisecond {
		t.Errorf("instance 500 of 1000 due at %v, want the middle of the interval", got)
	}
	if got := p.due(start, 2, 0).Sub(start); got != 10*time.Second {
		t.Errorf("third cycle starts at %v", got)
	}
	if p.services() != 10 || p.service(999) != "beat-0009" || p.service(0) != "beat-0000" {
		t.Errorf("services %d, %s", p.services(), p.service(999))
	}
	if (beatPlan{n: 101, perService: 100}).services() != 2 {
		t.Error("a partial last service is not counted")
	}
}

func TestInstanceIPsAreLoopbackAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range []int{0, 1, 255, 256, 65535, 65536, 999999, 5_000_000, 9_000_000} {
		ip := instanceIP(k)
		if !strings.HasPrefix(ip, "127.") {
			t.Errorf("instance %d: %s is not loopback", k, ip)
		}
		if seen[ip] {
			t.Errorf("instance %d: %s used twice", k, ip)
		}
		seen[ip] = true
	}
	for k := 0; k < 200000; k++ {
		seen[instanceIP(k)] = true
	}
	if len(seen) < 200000 {
		t.Errorf("the first 200,000 instances share addresses: %d distinct", len(seen))
	}
}

func TestParseWrkRun(t *testing.T) {
	out := `Running 10s test @ http://127.0.0.1:8848/
  1 threads and 21 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.10ms   10.20ms 120.00ms   90.00%
    Req/Sec     2.55k   300.00     3.10k    70.00%
  Latency Distribution
     50%    7.80ms
     75%   10.00ms
     90%   15.00ms
     99%   57.80ms
  25512 requests in 10.01s, 2.10MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   2548.70
Transfer/sec:    215.00KB
`
	r, err := parseWrkRun([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 25512 || r.Elapsed != 10010*time.Millisecond {
		t.Fatalf("requests %d in %v", r.Requests, r.Elapsed)
	}
	if r.P50 != 7800*time.Microsecond || r.P99 != 57800*time.Microsecond {
		t.Fatalf("p50 %v p99 %v", r.P50, r.P99)
	}
	if !strings.Contains(r.Failed, "Non-2xx or 3xx responses: 3") {
		t.Fatalf("failures not reported: %q", r.Failed)
	}
	if _, err := parseWrkRun([]byte("unable to connect")); err == nil {
		t.Fatal("output without a request count was accepted")
	}
	for in, want := range map[string]time.Duration{"812.00us": 812 * time.Microsecond, "1.02s": 1020 * time.Millisecond, "2.00m": 2 * time.Minute} {
		if got := parseWrkDur(in); got != want {
			t.Errorf("parseWrkDur(%q) = %v, want %v", in, got, want)
		}
	}
}
