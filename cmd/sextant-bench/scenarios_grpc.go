package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"sextant/grpcfront"
)

// grpcClient is one Nacos 2.x connection as a client makes it:
// ServerCheckRequest, then the bi-stream with ConnectionSetupRequest.
type grpcClient struct {
	cc     *grpc.ClientConn
	stream grpc.ClientStream
}

// grpcAddrOf is where a node's gRPC front listens: its HTTP port + 1000.
func grpcAddrOf(httpAddr string) string {
	host, port, _ := net.SplitHostPort(httpAddr)
	p, _ := strconv.Atoi(port)
	return net.JoinHostPort(host, strconv.Itoa(p+grpcPortOffset))
}

// dialGRPC connects; onPush, when set, sees the body of every push
// before it is acked.
func dialGRPC(ctx context.Context, addr string, onPush func(body []byte)) (*grpcClient, error) {
	// Static 10 MiB windows, as nacos-sdk-go v2 sets them: no BDP pings
	// after every push.
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(grpcfront.Codec{})),
		grpc.WithInitialWindowSize(sdkWindow), grpc.WithInitialConnWindowSize(sdkWindow))
	if err != nil {
		return nil, err
	}
	c := &grpcClient{cc: cc}
	if _, err := c.call(ctx, "ServerCheckRequest", []byte(`{"module":"internal"}`)); err != nil {
		cc.Close()
		return nil, err
	}
	st, err := cc.NewStream(context.Background(), &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, "/BiRequestStream/requestBiStream")
	if err != nil {
		cc.Close()
		return nil, err
	}
	c.stream = st
	if err := st.SendMsg(&grpcfront.Payload{Type: "ConnectionSetupRequest",
		Body: []byte(`{"clientVersion":"sextant-bench","labels":{"source":"sdk","module":"naming"},"module":"internal"}`)}); err != nil {
		cc.Close()
		return nil, err
	}
	// Answer what the server sends (probes), as a client does.
	go func() {
		for {
			var p grpcfront.Payload
			if err := st.RecvMsg(&p); err != nil {
				return
			}
			typ := "ClientDetectionResponse"
			if p.Type == "NotifySubscriberRequest" {
				typ = "NotifySubscriberResponse"
				if onPush != nil {
					onPush(p.Body)
				}
			}
			ack := append(append([]byte(`{"resultCode":200,"success":true,"requestId":`), requestIDOf(p.Body)...), '}')
			_ = st.SendMsg(&grpcfront.Payload{Type: typ, Body: ack})
		}
	}()
	// The setup is taken asynchronously; wait until requests are served.
	err = poll(ctx, 5*time.Second, 20*time.Millisecond, func() (bool, error) {
		p, err := c.call(ctx, "HealthCheckRequest", []byte(`{"module":"internal"}`))
		return err == nil && p.Type == "HealthCheckResponse", nil
	})
	if err != nil {
		cc.Close()
		return nil, err
	}
	return c, nil
}

// sdkWindow is the flow-control window nacos-sdk-go v2 dials with.
const sdkWindow = 10 << 20

// requestIDOf returns the quoted requestId of a server request's body
// without decoding the rest: the server writes it first. A body of
// another shape gets "" (and its ack is ignored).
func requestIDOf(body []byte) []byte {
	rest, ok := bytes.CutPrefix(body, []byte(`{"requestId":`))
	if !ok {
		return []byte(`""`)
	}
	if end := bytes.IndexByte(rest[min(1, len(rest)):], '"'); len(rest) > 0 && rest[0] == '"' && end >= 0 {
		return rest[:end+2]
	}
	return []byte(`""`)
}

// call sends one request and fails unless the answer says success.
func (c *grpcClient) call(ctx context.Context, typ string, body []byte) (*grpcfront.Payload, error) {
	var out grpcfront.Payload
	if err := c.cc.Invoke(ctx, "/Request/request", &grpcfront.Payload{Type: typ, Body: body}, &out); err != nil {
		return nil, err
	}
	var r struct {
		Success bool   `json:"success"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(out.Body, &r); err != nil {
		return nil, err
	}
	if !r.Success {
		return &out, fmt.Errorf("%s answered %s: %s", typ, out.Type, r.Message)
	}
	return &out, nil
}

// scenarioGRPCRegister: ephemeral registrations over gRPC on a 3-node
// cluster, connections spread over the nodes, each registration a new
// instance bound to its connection.
func (h *harness) scenarioGRPCRegister(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 3)
	if err != nil {
		return err
	}
	const services = 100
	svc := func(i int) string { return fmt.Sprintf("greg-%03d", i%services) }
	// Create the services first, as the register scenario does: their
	// creation goes through Raft and is not what this scenario measures.
	// Right after the start the members may not agree on the views yet
	// (503, retry): the same registrations again are harmless.
	err = poll(ctx, 30*time.Second, time.Second, func() (bool, error) {
		_, err := h.populate(ctx, nodes, services, 16, true, keepAlive, func(i int) inst {
			return inst{svc(i), instanceIP(i), 9000}
		})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("creating the services: %w", err)
	}
	var addrs []string
	for _, nd := range nodes {
		addrs = append(addrs, nd.http)
	}
	pids := pidsOf(nodes)
	paced, err := h.pacedRegisterCPU(ctx, nodes, services, svc)
	if err != nil {
		return err
	}
	// The paced gRPC registrations went with their connections; wait until
	// every node dropped them, so that their renewals do not run below.
	if _, err := h.waitHeld(ctx, addrs, services, svc, services+paced.httpOK, services+paced.httpOK, time.Minute); err != nil {
		return err
	}
	conns, err := dialMany(ctx, nodes, o.regClients)
	defer closeAll(conns)
	if err != nil {
		return err
	}
	cpu := startCPU(pids...)
	self := startCPU(os.Getpid()) // the load generator
	stop := h.profile("grpc-register", pids)
	r := runClosedLoop(ctx, o.regClients, o.duration, opBound(o.duration), func(ctx context.Context, w int, seq int64) error {
		err := registerGRPC(ctx, conns[w], svc, services+int(seq))
		if dl, ok := ctx.Deadline(); err != nil && ok && !time.Now().Before(dl) {
			// gRPC saw the deadline a moment before ctx did: cut by the
			// end of the run, not a failure.
			<-ctx.Done()
		}
		return err
	})
	used, selfUsed := cpu.used(), self.used()
	stop()
	before := services + paced.httpOK
	held, herr := h.waitHeld(ctx, addrs, services, svc, before+r.OK, before+r.OK+int64(o.regClients), time.Minute)
	note := fmt.Sprintf("%d connections (raw gRPC, Nacos 2.x payloads), spread over 3 nodes, %d services; %s; cluster CPU %.0f µs/registration, the load generator's %.0f µs; %d acknowledged, held by the nodes afterwards: %v",
		o.regClients, services, summarize(r.Lat).String(), perOp(used, r.Rate(), r.Elapsed), perOp(selfUsed, r.Rate(), r.Elapsed), r.OK, held)
	ok := r.Failed == 0 && herr == nil
	if r.Failed > 0 {
		note += fmt.Sprintf("; %d failed: %s", r.Failed, oneLine(r.FirstErr))
	}
	if herr != nil {
		note += "; " + herr.Error()
	}
	rep.add(row{Scenario: "grpc-register", Metric: "ephemeral registrations/s over gRPC (3 nodes)", Sextant: fmtCount(r.Rate()),
		Refs: "Nacos 2.0: 26,785 on 3 × 8 cores (published)", Target: "≥ 20,000/s",
		Verdict: judge(r.Rate() >= 20000 && ok), Note: note})
	rep.add(row{Scenario: "grpc-register", Metric: fmt.Sprintf("cluster CPU per registration at a fixed %s/s, gRPC", fmtCount(pacedRate)),
		Sextant: fmt.Sprintf("%.0f µs", paced.grpc), Refs: fmt.Sprintf("the same over HTTP, same cluster: %.0f µs", paced.http),
		Ratio: ratio(paced.grpc, paced.http), Note: paced.note})

	// The instances stay bound to their connections: what keeping them
	// alive costs the cluster while nothing else happens (renewal rounds
	// every 5 s, the owners' beat checks, Distro).
	const quiet = 15 * time.Second
	idle := startCPU(pids...)
	time.Sleep(quiet)
	idleUsed := idle.used()
	per := float64(idleUsed.Microseconds()) / quiet.Seconds() / float64(max(r.OK, 1))
	rep.add(row{Scenario: "grpc-register", Metric: "cluster CPU per connected instance kept alive", Sextant: fmt.Sprintf("%.2f µs/s", per),
		Note: fmt.Sprintf("%d instances bound to %d idle connections over 3 nodes; cluster CPU %v over %v", r.OK, o.regClients, idleUsed.Round(time.Millisecond), quiet)})
	return nil
}

// scenarioGRPCIdle: N idle Nacos 2.x connections on one node, each set up
// and holding one subscription; the node's RSS before and after gives the
// bytes each idle client costs, and its live heap after the first
// collection once they are connected what each really holds (the RSS also
// counts garbage the GC tuner lets grow). The reference is the same
// connections on a bare grpc-go server (grpc-ref --idle).
func (h *harness) scenarioGRPCIdle(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 1)
	if err != nil {
		return err
	}
	nd := nodes[0]
	time.Sleep(time.Second)
	base, err := nd.mem()
	if err != nil {
		return err
	}
	baseMetrics := scrape(ctx, nd.http)
	addr := grpcAddrOf(nd.http)
	start := time.Now()
	conns, err := connectSubscribers(ctx, addr, o.grpcIdle, "idle-", 100, nil)
	defer closeAll(conns) // again after the early close below: harmless
	if err != nil {
		return err
	}
	setup := time.Since(start)
	time.Sleep(3 * time.Second)
	after, err := nd.mem()
	if err != nil {
		return err
	}
	m := scrape(ctx, nd.http)
	// The live heap as of a collection that ran with every client
	// connected: the node collects on its own (the runtime forces one every
	// two minutes at the latest).
	gcs := m("go_gc_duration_seconds_count")
	live := -1.0
	if err := poll(ctx, 150*time.Second, time.Second, func() (bool, error) {
		if l := scrape(ctx, nd.http); l("go_gc_duration_seconds_count") > gcs {
			live = l("go_gc_heap_live_bytes")
			return true, nil
		}
		return false, nil
	}); err != nil {
		h.logf("grpc-idle: no collection within 150 s: %v", err)
	}
	closeAll(conns) // before the reference takes the machine
	n := float64(o.grpcIdle)
	per := float64(after.RSS-base.RSS) / n
	liveText := "no collection within 150 s"
	if live >= 0 {
		liveText = fmtBytes(int64((live-baseMetrics("go_gc_heap_live_bytes"))/n)) + " live heap after the next collection"
	}
	nd.child.stop(10 * time.Second) // its memory and cores go to the reference
	rep.add(row{Scenario: "grpc-idle", Metric: fmt.Sprintf("RSS per idle gRPC client (%s clients, one node)", fmtCount(n)),
		Sextant: fmtBytes(int64(per)), Refs: h.idleRef(ctx, o.grpcIdle), Target: "≤ 20 KiB", Verdict: judge(per <= 20<<10),
		Note: fmt.Sprintf("each connection set up (ServerCheck, bi-stream, ConnectionSetupRequest) with one subscription; baseline RSS %s, after %s (peak %s); connected in %v; per client: %s, %.1f goroutines, %s of stacks, %s of heap in use (garbage included)",
			fmtBytes(base.RSS), fmtBytes(after.RSS), fmtBytes(after.HWM), setup.Round(time.Millisecond), liveText,
			m("go_goroutines")/n, fmtBytes(int64(m("go_memstats_stack_inuse_bytes")/n)), fmtBytes(int64(m("go_memstats_heap_inuse_bytes")/n)))})
	return nil
}

// idleRef connects n idle clients to a bare grpc-go server (grpc-ref
// --idle) and says what each costs it: RSS, and live heap after a forced
// collection.
func (h *harness) idleRef(ctx context.Context, n int) string {
	ref := "bare grpc-go server (grpc-ref --idle), same clients: "
	addr, c, err := h.startGRPCRef(ctx, "--idle")
	if err != nil {
		return ref + "not measured: " + oneLine(err.Error())
	}
	defer c.stop(5 * time.Second)
	probe, err := dialGRPC(ctx, addr, nil)
	if err != nil {
		return ref + "not measured: " + oneLine(err.Error())
	}
	defer probe.cc.Close()
	stats := func() (refStats, error) {
		var st refStats
		p, err := probe.call(ctx, benchStatsType, []byte(`{}`))
		if err == nil {
			err = json.Unmarshal(p.Body, &st)
		}
		return st, err
	}
	time.Sleep(time.Second)
	baseMem, err := readMemStatus(c.pid())
	if err != nil {
		return ref + "not measured: " + oneLine(err.Error())
	}
	base, err := stats()
	if err != nil {
		return ref + "not measured: " + oneLine(err.Error())
	}
	conns, err := connectSubscribers(ctx, addr, n, "idle-", 100, nil)
	defer closeAll(conns)
	if err != nil {
		return ref + "not measured: " + oneLine(err.Error())
	}
	time.Sleep(3 * time.Second)
	mem, err := readMemStatus(c.pid()) // before the collection stats forces
	if err != nil {
		return ref + "not measured: " + oneLine(err.Error())
	}
	st, err := stats()
	if err != nil {
		return ref + "not measured: " + oneLine(err.Error())
	}
	k := float64(n)
	return ref + fmt.Sprintf("%s RSS, %s live heap, %.1f goroutines and %s of stacks per client (GOGC 100)",
		fmtBytes(int64(float64(mem.RSS-baseMem.RSS)/k)), fmtBytes(int64(float64(st.Live-base.Live)/k)),
		float64(st.Goroutines-base.Goroutines)/k, fmtBytes(int64(float64(st.Stacks-base.Stacks)/k)))
}

// scrape reads a node's /metrics once and returns a lookup of its
// unlabelled samples (0 for a missing one).
func scrape(ctx context.Context, httpAddr string) func(name string) float64 {
	_, body, _ := httpDo(ctx, "GET", httpAddr, "/metrics", nil, "")
	return func(name string) float64 {
		for _, line := range bytes.Split(body, []byte("\n")) {
			if v, ok := bytes.CutPrefix(line, []byte(name+" ")); ok {
				f, _ := strconv.ParseFloat(string(bytes.TrimSpace(v)), 64)
				return f
			}
		}
		return 0
	}
}

// pacedRate and pacedFor set the paced comparison of grpc-register: the
// same registrations offered at the same rate over HTTP and over gRPC, so
// that the CPU each costs is compared at the same load, whatever rate the
// closed loop reaches on a shared machine.
const (
	pacedRate = 2000
	pacedFor  = 5 * time.Second
	pacedIdle = 3 * time.Second
)

type pacedCPU struct {
	http, grpc float64 // cluster CPU per registration, µs
	httpOK     int64
	note       string
}

// pacedRegisterCPU offers pacedRate new ephemeral registrations per second
// for pacedFor over HTTP, then the same over gRPC (64 connections spread
// over the nodes, closed afterwards), and measures the cluster's CPU per
// registration in each.
func (h *harness) pacedRegisterCPU(ctx context.Context, nodes []*node, services int, svc func(int) string) (pacedCPU, error) {
	var out pacedCPU
	pids := pidsOf(nodes)
	const workers = 64
	idleHTTP := idleCPURate(pids)
	cpu := startCPU(pids...)
	hr := runPaced(ctx, workers, pacedRate, pacedFor, func(ctx context.Context, _ int, seq int64) error {
		k := 2_000_000 + int(seq)
		return httpOp(ctx, "POST", nodes[int(seq)%len(nodes)].http, "/nacos/v1/ns/instance", registerForm(svc(k), instanceIP(k), 9000, true, keepAlive), "", nil)
	})
	httpUsed := cpu.used()
	conns, err := dialMany(ctx, nodes, workers)
	defer closeAll(conns)
	if err != nil {
		return out, err
	}
	idleGRPC := idleCPURate(pids)
	cpu = startCPU(pids...)
	gr := runPaced(ctx, workers, pacedRate, pacedFor, func(ctx context.Context, w int, seq int64) error {
		return registerGRPC(ctx, conns[w], svc, 1_000_000+int(seq))
	})
	grpcUsed := cpu.used()
	if hr.OK < hr.Failed || gr.OK < gr.Failed {
		return out, fmt.Errorf("paced registrations failed: HTTP %d (%s), gRPC %d (%s)", hr.Failed, oneLine(hr.FirstErr), gr.Failed, oneLine(gr.FirstErr))
	}
	// What the idle cluster spends anyway is not the registrations'.
	marginal := func(used time.Duration, idle float64, r pacedResult) float64 {
		return (used.Seconds() - idle*r.Elapsed.Seconds()) * 1e6 / float64(max(r.OK, 1))
	}
	out.http, out.grpc = marginal(httpUsed, idleHTTP, hr), marginal(grpcUsed, idleGRPC, gr)
	out.httpOK = hr.OK
	out.note = fmt.Sprintf("%d registrations over HTTP (Go generator), then %d over gRPC (%d connections), each a new instance, offered at %s/s for %v; cluster CPU %v over %v and %v over %v, less what the idle cluster used just before each (%.0f and %.0f ms/s); latest start behind schedule %s and %s",
		hr.OK, gr.OK, workers, fmtCount(pacedRate), pacedFor, httpUsed.Round(time.Millisecond), hr.Elapsed.Round(time.Millisecond),
		grpcUsed.Round(time.Millisecond), gr.Elapsed.Round(time.Millisecond), idleHTTP*1e3, idleGRPC*1e3, fmtDur(hr.MaxLag), fmtDur(gr.MaxLag))
	if hr.Failed+gr.Failed > 0 {
		out.note += fmt.Sprintf("; failed: HTTP %d (%s), gRPC %d (%s)", hr.Failed, oneLine(hr.FirstErr), gr.Failed, oneLine(gr.FirstErr))
	}
	return out, nil
}

// idleCPURate is the CPU the processes use per second while nothing is
// offered, measured over pacedIdle.
func idleCPURate(pids []int) float64 {
	cpu := startCPU(pids...)
	time.Sleep(pacedIdle)
	return cpu.used().Seconds() / pacedIdle.Seconds()
}

// dialMany opens n connections spread over the nodes' gRPC fronts.
func dialMany(ctx context.Context, nodes []*node, n int) ([]*grpcClient, error) {
	conns := make([]*grpcClient, n)
	for i := range conns {
		c, err := dialGRPC(ctx, grpcAddrOf(nodes[i%len(nodes)].http), nil)
		if err != nil {
			return conns, fmt.Errorf("connection %d: %w", i, err)
		}
		conns[i] = c
	}
	return conns, nil
}

// registerGRPC registers instance k of svc(k) over c, bound to c.
func registerGRPC(ctx context.Context, c *grpcClient, svc func(int) string, k int) error {
	body := `{"type":"registerInstance","namespace":"public","groupName":"DEFAULT_GROUP","serviceName":` + strconv.Quote(svc(k)) +
		`,"module":"naming","instance":{"ip":"` + instanceIP(k) + `","port":9000,"weight":1,"healthy":true,"enabled":true,"ephemeral":true,"clusterName":"","metadata":{}}}`
	_, err := c.call(ctx, "InstanceRequest", []byte(body))
	return err
}

func closeAll(conns []*grpcClient) {
	for _, c := range conns {
		if c != nil {
			c.cc.Close()
		}
	}
}

// connectSubscribers opens n connections to addr, 64 at a time, each
// subscribed to prefix+(i % services); onPush(i, body) sees connection i's pushes.
func connectSubscribers(ctx context.Context, addr string, n int, prefix string, services int, onPush func(i int, body []byte)) ([]*grpcClient, error) {
	conns := make([]*grpcClient, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				var hook func([]byte)
				if onPush != nil {
					hook = func(b []byte) { onPush(i, b) }
				}
				c, err := dialGRPC(ctx, addr, hook)
				if err == nil {
					conns[i] = c
					_, err = c.call(ctx, "SubscribeServiceRequest", []byte(`{"namespace":"public","groupName":"DEFAULT_GROUP","serviceName":`+
						strconv.Quote(prefix+strconv.Itoa(i%services))+`,"module":"naming","subscribe":true,"clusters":""}`))
				}
				if err != nil {
					select {
					case errs <- fmt.Errorf("connection %d: %w", i, err):
					default:
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return conns, err
	default:
	}
	return conns, nil
}

// scenarioGRPCPush: N gRPC subscribers of one service on one node; each
// round registers a new instance over HTTP and measures, per subscriber,
// the time until a push listing it arrived. The reference is the same
// subscribers on a bare grpc-go server (grpcref.go) that sends one fixed
// push to every stream.
func (h *harness) scenarioGRPCPush(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 1)
	if err != nil {
		return err
	}
	nd := nodes[0]
	pids := []int{nd.pid()}
	var cpu, self *cpuMeter
	var stop func()
	res, err := pushRounds(ctx, grpcAddrOf(nd.http), o.grpcPush, func() {
		cpu = startCPU(pids...)
		self = startCPU(os.Getpid()) // the subscribers: reading, acking
		stop = h.profile("grpc-push", pids)
	}, func(r int) error {
		return httpOp(ctx, "POST", nd.http, "/nacos/v1/ns/instance", registerForm("gpush0", pushMarker(r), 9000, true, keepAlive), "", nil)
	})
	if err != nil {
		return err
	}
	used, selfUsed := cpu.used(), self.used()
	stop()
	nd.child.stop(10 * time.Second) // its cores go to the reference
	ref := "bare grpc-go fan-out: not measured"
	if addr, c, err := h.startGRPCRef(ctx); err != nil {
		ref += ": " + oneLine(err.Error())
	} else {
		trigger, err := dialGRPC(ctx, addr, nil)
		if err == nil {
			var bres pushResult
			bres, err = pushRounds(ctx, addr, o.grpcPush, func() {}, func(r int) error {
				_, err := trigger.call(ctx, benchPushType, []byte(`{"requestId":"`+strconv.Itoa(r)+`","module":"naming","serviceInfo":{"hosts":[{"ip":"`+pushMarker(r)+`"}]}}`))
				return err
			})
			trigger.cc.Close()
			bs := summarize(bres.delays)
			ref = fmt.Sprintf("bare grpc-go fan-out (grpc-ref process), same subscribers: p99 %s (p50 %s, %d missing)", fmtDur(bs.P99), fmtDur(bs.P50), bres.missing)
		}
		if err != nil {
			ref += ": " + oneLine(err.Error())
		}
		c.stop(5 * time.Second)
	}
	sum := summarize(res.delays)
	rep.add(row{Scenario: "grpc-push", Metric: fmt.Sprintf("push delay p99 over gRPC (%s subscribers, one node)", fmtCount(float64(o.grpcPush))),
		Sextant: fmtDur(sum.P99), Refs: ref, Target: "< 200 ms", Verdict: judge(sum.N > 0 && sum.P99 < 200*time.Millisecond && res.missing == 0),
		Note: fmt.Sprintf("%d rounds, each a new instance registered over HTTP; from the register request to each subscriber's receipt: %s; %d pushes missing after 10 s; node CPU %v over the rounds (%.0f µs per push), the subscribers' process %v (%.0f µs per push)",
			pushRoundCount, sum.String(), res.missing, used.Round(time.Millisecond), perPush(used, len(res.delays)),
			selfUsed.Round(time.Millisecond), perPush(selfUsed, len(res.delays)))})
	return nil
}

const pushRoundCount = 5

type pushResult struct {
	delays  []time.Duration
	missing int
}

// pushRounds connects n subscribers of gpush0 to addr, then runs
// pushRoundCount rounds: trigger(r) makes round r's change (marked by
// pushMarker(r)), and each subscriber's delay is the time from the trigger
// to its receipt; started runs once the subscribers are connected.
func pushRounds(ctx context.Context, addr string, n int, started func(), trigger func(r int) error) (pushResult, error) {
	got := make([][pushRoundCount]atomic.Int64, n)
	onPush := func(i int, body []byte) {
		now := time.Now().UnixNano()
		for r := range pushRoundCount {
			if bytes.Contains(body, []byte(`"`+pushMarker(r)+`"`)) {
				got[i][r].CompareAndSwap(0, now)
			}
		}
	}
	conns, err := connectSubscribers(ctx, addr, n, "gpush", 1, onPush)
	defer closeAll(conns)
	var res pushResult
	if err != nil {
		return res, err
	}
	started()
	for r := range pushRoundCount {
		sent := time.Now()
		if err := trigger(r); err != nil {
			return res, err
		}
		_ = poll(ctx, 10*time.Second, 20*time.Millisecond, func() (bool, error) {
			for i := range got {
				if got[i][r].Load() == 0 {
					return false, nil
				}
			}
			return true, nil
		})
		for i := range got {
			if t := got[i][r].Load(); t != 0 {
				res.delays = append(res.delays, time.Duration(t-sent.UnixNano()))
			} else {
				res.missing++
			}
		}
		time.Sleep(time.Second) // past the merge delay: each round is its own push
	}
	return res, nil
}

func perPush(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(max(n, 1)) }

// pushMarker is the address of the instance registered in round r.
func pushMarker(r int) string { return "10.254.0." + strconv.Itoa(r+1) }
