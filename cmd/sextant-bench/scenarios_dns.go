package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Figures of the issue measured on this kind of machine, used where the
// system cannot be run by the harness.
const (
	coreDNSFileQPS = 39000 // CoreDNS file plugin, dnsperf -c 8, same zone
	zone           = "nacos."
)

// scenarioDNS: services × instances registered over HTTP, then the query
// mix (half SRV, half A, no EDNS) against Sextant, the reference miekg/dns
// server answering Sextant's own bytes, and Knot DNS when installed.
func (h *harness) scenarioDNS(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 1)
	if err != nil {
		return err
	}
	nd := nodes[0]
	d, err := h.dnsRecords(ctx, nodes, "dns")
	if err != nil {
		return err
	}
	qs, afile, dir, avgSize := d.qs, d.afile, d.dir, d.avgSize
	load := h.dnsRun(d)
	sx := &system{name: "sextant", pids: []int{nd.pid()}, run: load(nd.dns)}
	systems := []*system{sx}
	ref := &system{name: "miekg/dns precomputed"}
	if addr, c, err := h.startDNSRef(ctx, dir, afile, qs[0]); err != nil {
		ref.err = err
	} else {
		ref.pids, ref.run = []int{c.pid()}, load(addr)
		systems = append(systems, ref)
	}
	knot := h.knotSystem(ctx, d)
	if knot.run != nil {
		systems = append(systems, knot)
	}
	gen := h.dnsGenerator()
	h.logf("dns: %s, %d rounds of %v", gen, o.rounds, o.duration)
	measureRounds(ctx, h, o.rounds, systems...)
	if !sx.ok() {
		return fmt.Errorf("sextant: %w", sx.err)
	}
	var refs, cpus []string
	for _, s := range systems {
		if s.ok() {
			cpus = append(cpus, fmt.Sprintf("%s %s", s.name, fmtDur(s.cpuPerOp())))
		}
	}
	for _, s := range []*system{ref, knot} {
		if s.ok() {
			refs = append(refs, fmt.Sprintf("%s %s (rounds %s)", s.name, fmtCount(s.best), s.roundsText()))
		} else if s.err != nil {
			rep.note("dns: %s skipped: %s", s.name, oneLine(s.err.Error()))
		}
	}
	refs = append(refs, "CoreDNS file "+fmtCount(coreDNSFileQPS)+" (issue figure, not this run)")
	note := fmt.Sprintf("%s, best of %d rounds of %v (Sextant rounds %s); %d services × %d instances, avg answer %d B; server CPU per query: %s",
		gen, o.rounds, o.duration, sx.roundsText(), o.dnsServices, o.dnsInstances, avgSize, strings.Join(cpus, ", "))
	r := row{Scenario: "dns", Metric: "queries/s vs miekg/dns ceiling", Sextant: fmtCount(sx.best), Refs: joinRefs(refs), Note: note, Target: "≥ 0.9× miekg/dns"}
	if ref.ok() {
		r.Ratio, r.Verdict = ratio(sx.best, ref.best), judge(sx.best >= 0.9*ref.best)
	}
	rep.add(r)
	rep.add(row{Scenario: "dns", Metric: "queries/s vs CoreDNS file", Sextant: fmtCount(sx.best), Refs: "CoreDNS file " + fmtCount(coreDNSFileQPS) + " (issue figure)",
		Ratio: ratio(sx.best, coreDNSFileQPS), Target: "≥ 1.5× CoreDNS", Verdict: judge(sx.best >= 1.5*coreDNSFileQPS)})
	if knot.ok() {
		rep.add(row{Scenario: "dns", Metric: "queries/s vs Knot DNS", Sextant: fmtCount(sx.best), Refs: "Knot " + fmtCount(knot.best),
			Ratio: ratio(sx.best, knot.best), Target: "Knot's figure (stretch: batched I/O, socket per core)", Verdict: judge(sx.best >= knot.best)})
	}

	// The UDP hot path runs from the bytes of a query to the bytes of its
	// reply (dnsfront's socket loop and wire path); BenchmarkQueryWire
	// measures exactly that.
	allocs, line, err := benchAllocs(ctx, "./dnsfront/", "BenchmarkQueryWire", regexp.MustCompile(`QueryWire`))
	if err != nil {
		rep.add(row{Scenario: "dns", Metric: "allocs per answered query", Note: oneLine(err.Error())})
	} else {
		rep.add(row{Scenario: "dns", Metric: "allocs per answered query", Sextant: strconv.Itoa(allocs), Target: "≤ 1",
			Verdict: judge(allocs <= 1), Note: "go test -bench BenchmarkQueryWire -benchmem ./dnsfront/ (query bytes in, reply bytes out): " + line})
	}
	return nil
}

// dnsData is the records of a DNS scenario: --dns-services services of
// --dns-instances instances registered, the query mix over them, its
// dnsperf file and the answers Sextant gave to each query.
type dnsData struct {
	services []string
	qs       []dnsQuery
	qfile    string
	afile    string
	answers  [][]byte
	dir      string
	avgSize  int
}

// instance is the i-th instance registered.
func (d *dnsData) instance(i, perService int) inst {
	return inst{d.services[i/perService], instanceIP(i), 8080 + i%perService}
}

// dnsRecords registers the services of a DNS scenario through nodes,
// waits until the first node answers for all of them, and keeps the
// queries and answers in a fresh directory named after prefix.
func (h *harness) dnsRecords(ctx context.Context, nodes []*node, prefix string) (*dnsData, error) {
	o := h.opts
	d := &dnsData{services: make([]string, o.dnsServices)}
	for i := range d.services {
		d.services[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	n := o.dnsServices * o.dnsInstances
	if _, err := h.populate(ctx, nodes, n, 64, true, keepAlive, func(i int) inst { return d.instance(i, o.dnsInstances) }); err != nil {
		return nil, err
	}
	d.qs = queryMix(d.services, zone)
	last := d.qs[len(d.qs)-1]
	if err := poll(ctx, 10*time.Second, 50*time.Millisecond, func() (bool, error) {
		raw, err := exchangeRaw(nodes[0].dns, mustPack(last), time.Second)
		if err != nil {
			return false, nil
		}
		var m dns.Msg
		return m.Unpack(raw) == nil && len(m.Answer) == o.dnsInstances, nil
	}); err != nil {
		return nil, fmt.Errorf("dns never showed the registrations: %w", err)
	}
	var err error
	if d.answers, err = captureAnswers(nodes[0].dns, d.qs); err != nil {
		return nil, err
	}
	if d.dir, err = h.mkdir(prefix); err != nil {
		return nil, err
	}
	d.qfile, d.afile = filepath.Join(d.dir, "queries.txt"), filepath.Join(d.dir, "answers.bin")
	if err := writeFile(d.qfile, []byte(dnsperfInput(d.qs))); err != nil {
		return nil, err
	}
	f, err := os.Create(d.afile)
	if err != nil {
		return nil, err
	}
	err = writeAnswers(f, d.answers)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	for _, a := range d.answers {
		d.avgSize += len(a)
	}
	d.avgSize /= len(d.answers)
	return d, nil
}

// dnsRun returns the measurement of one DNS server at addr with the query
// mix of d for --duration (more than 1 % of the queries lost is an error).
func (h *harness) dnsRun(d *dnsData) func(addr string) func(ctx context.Context) (float64, float64, error) {
	o := h.opts
	return func(addr string) func(ctx context.Context) (float64, float64, error) {
		return func(ctx context.Context) (float64, float64, error) {
			r, err := h.dnsLoad(ctx, addr, d.qs, d.qfile, o.duration)
			if err == nil && r.Lost > int64(r.QPS*o.duration.Seconds()/100) {
				err = fmt.Errorf("%d queries lost", r.Lost)
			}
			return r.QPS, r.QPS * o.duration.Seconds(), err
		}
	}
}

// knotSystem starts Knot DNS on the records of d; its run is nil (and err
// says why) when it cannot.
func (h *harness) knotSystem(ctx context.Context, d *dnsData) *system {
	knot := &system{name: "Knot"}
	if h.tools.knotd == "" {
		knot.err = fmt.Errorf("knotd not installed (apt-get install knot, or --install-refs)")
	} else if addr, c, err := h.startKnot(ctx, d.dir, d.answers, d.qs[0]); err != nil {
		knot.err = err
	} else {
		knot.pids, knot.run = []int{c.pid()}, h.dnsRun(d)(addr)
	}
	return knot
}

// dnsGenerator names the DNS load generator the run uses.
func (h *harness) dnsGenerator() string {
	if h.opts.dnsLoad == "dnsperf" || (h.opts.dnsLoad == "auto" && h.tools.dnsperf != "") {
		return "dnsperf -c " + strconv.Itoa(h.opts.dnsClients)
	}
	return fmt.Sprintf("go generator, %d sockets × 16 outstanding", h.opts.dnsClients)
}

func joinRefs(refs []string) string {
	s := ""
	for i, r := range refs {
		if i > 0 {
			s += "; "
		}
		s += r
	}
	return s
}

func mustPack(q dnsQuery) []byte {
	// The names come from the harness itself and always pack; were one
	// not to, the empty query would simply go unanswered.
	b, _ := packQuery(q, 1)
	return b
}

// freeUDPAddr returns a 127.0.0.1 address free for UDP and TCP.
func freeUDPAddr() (string, int, error) {
	p, err := pickUDPTCPPort(map[int]bool{})
	if err != nil {
		return "", 0, err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), p, nil
}

// waitDNS waits until addr answers the query.
func waitDNS(ctx context.Context, c *child, addr string, q dnsQuery) error {
	return poll(ctx, 15*time.Second, 50*time.Millisecond, func() (bool, error) {
		if done, err := c.exited(); done {
			return false, fmt.Errorf("%s exited: %v\n%s", c.name, err, c.logTail())
		}
		raw, err := exchangeRaw(addr, mustPack(q), 300*time.Millisecond)
		if err != nil {
			return false, nil
		}
		var m dns.Msg
		return m.Unpack(raw) == nil && len(m.Answer) > 0, nil
	})
}

// startDNSRef starts the reference server as a separate process.
func (h *harness) startDNSRef(ctx context.Context, dir, afile string, probe dnsQuery) (string, *child, error) {
	addr, _, err := freeUDPAddr()
	if err != nil {
		return "", nil, err
	}
	c, err := h.procs.start("dns-ref", h.self, filepath.Join(dir, "dns-ref.log"), "dns-ref", "--addr", addr, "--answers", afile)
	if err != nil {
		return "", nil, err
	}
	if err := waitDNS(ctx, c, addr, probe); err != nil {
		return "", nil, err
	}
	return addr, c, nil
}

// startKnot serves the same records from a zone file with knotd.
func (h *harness) startKnot(ctx context.Context, dir string, answers [][]byte, probe dnsQuery) (string, *child, error) {
	kdir := filepath.Join(dir, "knot")
	if err := os.MkdirAll(filepath.Join(kdir, "db"), 0o755); err != nil {
		return "", nil, err
	}
	z, err := zoneFile(zone, "127.0.0.1", answers)
	if err != nil {
		return "", nil, err
	}
	zpath := filepath.Join(kdir, "nacos.zone")
	if err := writeFile(zpath, []byte(z)); err != nil {
		return "", nil, err
	}
	addr, port, err := freeUDPAddr()
	if err != nil {
		return "", nil, err
	}
	conf := filepath.Join(kdir, "knot.conf")
	if err := writeFile(conf, []byte(knotConfig(kdir, port, zone, zpath))); err != nil {
		return "", nil, err
	}
	c, err := h.procs.start("knotd", h.tools.knotd, filepath.Join(kdir, "knotd.log"), "-c", conf)
	if err != nil {
		return "", nil, err
	}
	if err := waitDNS(ctx, c, addr, probe); err != nil {
		return "", nil, err
	}
	return addr, c, nil
}
