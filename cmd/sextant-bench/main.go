// Command sextant-bench measures Sextant beside reference systems in the
// same run and appends the results to BENCHMARKS.md.
//
//	sextant-bench [flags]                          run the scenarios
//	sextant-bench dns-ref --addr A --answers F     reference DNS server (precomputed answers)
//	sextant-bench http-ref --addr A --body F       reference HTTP server (a fixed body)
//
// Everything it starts listens on 127.0.0.1 only, every load loop is bounded
// in count and time, and every process it started is stopped before it
// exits. See README.md, section Performance, for what each scenario measures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "dns-ref":
			return runDNSRef(args[1:], stderr)
		case "http-ref":
			return runHTTPRef(args[1:], stderr)
		case "grpc-ref":
			return runGRPCRef(args[1:], stderr)
		}
	}
	opts, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "sextant-bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	h, err := newHarness(ctx, opts, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "sextant-bench:", err)
		return 1
	}
	defer h.close()
	rep := h.runAll(ctx)
	if err := h.finish(rep); err != nil {
		fmt.Fprintln(stderr, "sextant-bench:", err)
		return 1
	}
	return 0
}

// options are the harness's flags.
type options struct {
	bin         string
	duration    time.Duration
	scenarios   []string
	out         string
	noAppend    bool
	installRefs bool
	label       string
	workDir     string

	dnsServices  int
	dnsInstances int
	dnsClients   int
	dnsLoad      string

	httpConns int
	httpLoad  string

	regClients   int
	grpcIdle     int
	grpcPush     int
	persistConcs []int

	beatInstances int
	beatDuration  time.Duration
	beatInterval  time.Duration
	beatWorkers   int

	memInstances int

	pushSubscribers int
	pushRounds      int

	largeServices  int
	largeInstances int
	largeChurn     float64 // percent of all instances changed per second
	largePollers   int

	churnWrites    int // dnschurn: registrations per second
	freshWrites    int
	gatewayChanges int

	failoverRuns int
	rounds       int
	// skipBench leaves out the rows that run package benchmarks of the
	// source tree (go test -bench): the harness's own tests set it, as
	// they run from another directory and time nothing.
	skipBench bool
	perfDir   string
	// nodeProcs is the GOMAXPROCS of each process of a co-located cluster
	// (Sextant nodes, etcd members): 0 for its share of the cores, -1 for
	// Go's default (every core).
	nodeProcs int
}

// allScenarios lists the scenarios in the order they run.
func allScenarios() []string {
	return []string{"dns", "list", "register", "grpc-register", "grpc-idle", "grpc-push", "persistent", "beats", "memory", "push", "failover",
		"large", "dnschurn", "freshness", "gateway"}
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("sextant-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var scen, concs string
	fs.StringVar(&o.bin, "bin", "", "sextant binary to run (default: build ./cmd/sextant)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "load time of each measurement")
	fs.StringVar(&scen, "scenarios", strings.Join(allScenarios(), ","), "comma-separated scenarios: "+strings.Join(allScenarios(), ","))
	fs.StringVar(&o.out, "out", "BENCHMARKS.md", "file the run's table is appended to")
	fs.BoolVar(&o.noAppend, "no-append", false, "print the table only")
	fs.BoolVar(&o.installRefs, "install-refs", false, "apt-get install the missing reference systems (knot, etcd-server, etcd-client) and load tools (dnsperf, wrk)")
	fs.StringVar(&o.label, "label", "", "a few words saying what this run is (shown in BENCHMARKS.md)")
	fs.StringVar(&o.workDir, "work-dir", "", "directory for data and logs (default: a fresh temporary directory, removed afterwards)")

	fs.IntVar(&o.dnsServices, "dns-services", 1000, "dns: services registered")
	fs.IntVar(&o.dnsInstances, "dns-instances", 3, "dns: instances per service")
	fs.IntVar(&o.dnsClients, "dns-clients", 8, "dns: load generator clients (dnsperf -c)")
	fs.StringVar(&o.dnsLoad, "dns-load", "auto", "dns: load generator: auto (dnsperf when installed), dnsperf or go")

	fs.IntVar(&o.httpConns, "http-conns", 64, "list: keep-alive connections of the load generator")
	fs.StringVar(&o.httpLoad, "http-load", "auto", "list and register: HTTP load generator: auto (wrk when installed), wrk or go")

	fs.IntVar(&o.regClients, "register-clients", 64, "register, grpc-register: concurrent clients")
	fs.IntVar(&o.grpcPush, "grpc-push-subscribers", 10000, "grpc-push: gRPC subscribers of one service (the target is 10000)")
	fs.IntVar(&o.grpcIdle, "grpc-idle-clients", 10000, "grpc-idle: idle gRPC clients connected to one node (the target is 10000)")
	fs.StringVar(&concs, "persistent-concurrency", "16,64", "persistent: concurrent writers, comma-separated")

	fs.IntVar(&o.beatInstances, "beat-instances", 2000, "beats: ephemeral instances beating (the target is 100000)")
	fs.DurationVar(&o.beatDuration, "beat-duration", 40*time.Second, "beats: how long the instances beat (the target is 10m)")
	fs.DurationVar(&o.beatInterval, "beat-interval", 5*time.Second, "beats: time between two beats of one instance")
	fs.IntVar(&o.beatWorkers, "beat-workers", 128, "beats: concurrent beat senders")

	fs.IntVar(&o.memInstances, "memory-instances", 100000, "memory: ephemeral instances registered in one node (the target is 1000000)")

	fs.IntVar(&o.pushSubscribers, "push-subscribers", 1000, "push: UDP subscribers of one service (the target is 10000)")
	fs.IntVar(&o.pushRounds, "push-rounds", 3, "push: changes pushed")

	fs.IntVar(&o.failoverRuns, "failover-runs", 3, "failover: leader kills")

	fs.IntVar(&o.largeServices, "large-services", 10, "large: services")
	fs.IntVar(&o.largeInstances, "large-instances", 10000, "large: instances per service")
	fs.Float64Var(&o.largeChurn, "large-churn", 1, "large: percent of all instances changed per second")
	fs.IntVar(&o.largePollers, "large-pollers", 16, "large: concurrent list pollers")
	fs.IntVar(&o.churnWrites, "churn-writes", 2000, "dnschurn: registrations per second while DNS is measured")
	fs.IntVar(&o.freshWrites, "fresh-writes", 100, "freshness: writes timed, each to a new service, spread over the 3 nodes")
	fs.IntVar(&o.gatewayChanges, "gateway-changes", 20, "gateway: changes timed until the gateway answers them")
	fs.StringVar(&o.perfDir, "perf-dir", "", "record a perf CPU profile of the Sextant processes during each measurement into this directory (needs perf: apt-get install linux-perf)")
	fs.IntVar(&o.nodeProcs, "node-procs", 0, "GOMAXPROCS of each process of a cluster on this machine (3 Sextant nodes, 3 etcd members): 0 for its share of the cores (cores / members, at least 1), -1 for Go's default (every core)")
	fs.IntVar(&o.rounds, "rounds", 2, "dns, list, persistent: measurement rounds, systems taking turns; the best round counts")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var err error
	if o.scenarios, err = parseScenarios(scen); err != nil {
		return o, err
	}
	if o.persistConcs, err = parseInts(concs); err != nil {
		return o, fmt.Errorf("persistent-concurrency: %w", err)
	}
	return o, o.validate()
}

func (o options) validate() error {
	var errs []error
	check := func(ok bool, format string, a ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	check(o.duration >= time.Second && o.duration <= time.Hour, "duration must be between 1s and 1h")
	check(o.dnsServices >= 1 && o.dnsServices <= 100000, "dns-services must be between 1 and 100000")
	check(o.dnsInstances >= 1 && o.dnsInstances <= 20, "dns-instances must be between 1 and 20")
	check(o.dnsClients >= 1 && o.dnsClients <= 256, "dns-clients must be between 1 and 256")
	check(oneOf(o.dnsLoad, "auto", "dnsperf", "go"), "dns-load must be auto, dnsperf or go")
	check(o.httpConns >= 1 && o.httpConns <= 4096, "http-conns must be between 1 and 4096")
	check(oneOf(o.httpLoad, "auto", "wrk", "go"), "http-load must be auto, wrk or go")
	check(o.regClients >= 1 && o.regClients <= 4096, "register-clients must be between 1 and 4096")
	check(o.grpcPush >= 1 && o.grpcPush <= 100000, "grpc-push-subscribers must be between 1 and 100000")
	check(o.grpcIdle >= 1 && o.grpcIdle <= 100000, "grpc-idle-clients must be between 1 and 100000")
	for _, c := range o.persistConcs {
		check(c >= 1 && c <= 4096, "persistent-concurrency values must be between 1 and 4096")
	}
	check(o.beatInstances >= 1 && o.beatInstances <= 1000000, "beat-instances must be between 1 and 1000000")
	check(o.beatDuration >= time.Second && o.beatDuration <= 2*time.Hour, "beat-duration must be between 1s and 2h")
	check(o.beatInterval >= 100*time.Millisecond && o.beatInterval <= time.Minute, "beat-interval must be between 100ms and 1m")
	check(o.beatWorkers >= 1 && o.beatWorkers <= 4096, "beat-workers must be between 1 and 4096")
	check(o.memInstances >= 1 && o.memInstances <= 5000000, "memory-instances must be between 1 and 5000000")
	check(o.pushSubscribers >= 1 && o.pushSubscribers <= 60000, "push-subscribers must be between 1 and 60000")
	check(o.pushRounds >= 1 && o.pushRounds <= 100, "push-rounds must be between 1 and 100")
	check(o.rounds >= 1 && o.rounds <= 20, "rounds must be between 1 and 20")
	check(o.failoverRuns >= 1 && o.failoverRuns <= 50, "failover-runs must be between 1 and 50")
	check(o.largeServices >= 1 && o.largeServices <= 100, "large-services must be between 1 and 100")
	check(o.largeInstances >= 1 && o.largeInstances <= 100000, "large-instances must be between 1 and 100000")
	check(o.largeChurn > 0 && o.largeChurn <= 100, "large-churn must be above 0 and at most 100 (percent per second)")
	check(o.largePollers >= 1 && o.largePollers <= 1024, "large-pollers must be between 1 and 1024")
	check(o.churnWrites >= 1 && o.churnWrites <= 100000, "churn-writes must be between 1 and 100000")
	check(o.freshWrites >= 1 && o.freshWrites <= 10000, "fresh-writes must be between 1 and 10000")
	check(o.gatewayChanges >= 1 && o.gatewayChanges <= 1000, "gateway-changes must be between 1 and 1000")
	return errors.Join(errs...)
}

func oneOf(s string, vals ...string) bool {
	for _, v := range vals {
		if s == v {
			return true
		}
	}
	return false
}

func parseScenarios(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" || seen[p] {
			continue
		}
		if !oneOf(p, allScenarios()...) {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", p, strings.Join(allScenarios(), ","))
		}
		seen[p] = true
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("no scenario selected")
	}
	return out, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(p, "%d", &n); err != nil {
			return nil, fmt.Errorf("%q is not an integer", p)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no value given")
	}
	return out, nil
}
