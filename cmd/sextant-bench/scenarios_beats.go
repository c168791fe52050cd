package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// beatPlan spreads n instances over services of perService instances and
// over the nodes (a client talks to one node, as a Nacos client does).
type beatPlan struct {
	n, perService int
	interval      time.Duration
}

func (p beatPlan) service(i int) string { return fmt.Sprintf("beat-%04d", i/p.perService) }
func (p beatPlan) services() int        { return (p.n + p.perService - 1) / p.perService }

// due is when instance i's beat of the given cycle is due: the beats of
// one cycle are spread evenly over the interval.
func (p beatPlan) due(start time.Time, cycle, i int) time.Time {
	return start.Add(time.Duration(cycle)*p.interval + time.Duration(int64(i)*int64(p.interval)/int64(p.n)))
}

// metadata is what a Nacos client registers with a beat interval other
// than its default of 5 s: the interval, and the beat and delete timeouts
// at the client's defaults of 3 and 6 intervals. Empty at 5 s.
func (p beatPlan) metadata() string {
	if p.interval == 5*time.Second {
		return ""
	}
	ms := p.interval.Milliseconds()
	return fmt.Sprintf(`{"preserved.heart.beat.interval":"%d","preserved.heart.beat.timeout":"%d","preserved.ip.delete.timeout":"%d"}`, ms, 3*ms, 6*ms)
}

// beatForm is a Nacos 1.x client's beat.
func beatForm(service, ip string, port int) url.Values {
	grouped := "DEFAULT_GROUP@@" + service
	b := `{"ip":"` + ip + `","port":` + strconv.Itoa(port) + `,"weight":1,"serviceName":"` + grouped + `","cluster":"DEFAULT","metadata":{},"scheduled":false}`
	return url.Values{"serviceName": {grouped}, "beat": {b}}
}

// appendBeatForm appends beatForm(service, ip, port).Encode() without
// building the url.Values: the beat senders' form, built in place
// (beatForm stays the readable definition the tests check it against).
func appendBeatForm(b []byte, service, ip string, port int) []byte {
	var num [20]byte
	ps := string(strconv.AppendInt(num[:0], int64(port), 10))
	b = append(b, "beat="...)
	for _, s := range [...]string{`{"ip":"`, ip, `","port":`, ps, `,"weight":1,"serviceName":"DEFAULT_GROUP@@`, service, `","cluster":"DEFAULT","metadata":{},"scheduled":false}`} {
		b = appendQueryEscape(b, s)
	}
	b = append(b, "&serviceName="...)
	b = appendQueryEscape(b, "DEFAULT_GROUP@@")
	return appendQueryEscape(b, service)
}

// beatPath is where a Nacos 1.x client sends its beats.
const beatPath = "/nacos/v1/ns/instance/beat"

// beatState is what the scenario tracks per instance.
type beatState struct {
	registered []atomic.Int64 // unix nanos of the registration's answer, 0 before
	flipped    []atomic.Bool  // seen healthy=false at least once while beating
	missing    []atomic.Bool  // seen absent from a list well after registration
}

// scenarioBeats: N ephemeral instances registered on a 3-node cluster and
// beating every interval; the lists are polled for healthy=false on
// instances whose client beats (false flips).
func (h *harness) scenarioBeats(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 3)
	if err != nil {
		return err
	}
	plan := beatPlan{n: o.beatInstances, perService: 100, interval: o.beatInterval}
	if plan.n < plan.perService {
		plan.perService = plan.n
	}
	st := &beatState{registered: make([]atomic.Int64, plan.n), flipped: make([]atomic.Bool, plan.n), missing: make([]atomic.Bool, plan.n)}
	byIP := make(map[string]int, plan.n)
	for i := 0; i < plan.n; i++ {
		byIP[instanceIP(i)] = i
	}
	ctx, cancel := context.WithTimeout(ctx, o.beatDuration)
	defer cancel()
	start := time.Now()
	end, _ := ctx.Deadline()
	cpu := startCPU(pidsOf(nodes)...)
	self := startCPU(os.Getpid()) // the harness: beat senders, list polls
	stopProfile := h.profile("beats", pidsOf(nodes))

	var beatsOK, beatsFailed, notFound atomic.Int64
	var regBeats atomic.Int64           // beatsOK when the last registration answered
	var steady atomic.Pointer[cpuMeter] // CPU from then on
	var steadySelf atomic.Pointer[cpuMeter]
	var wg sync.WaitGroup
	// Registrations, in order, each instance on its own node.
	var regFailed atomic.Int64
	var regErr atomic.Value
	var regDone atomic.Int64 // unix nanos when all are registered
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := runClosedLoop(ctx, 64, o.beatDuration, int64(plan.n), func(ctx context.Context, _ int, seq int64) error {
			i := int(seq)
			err := httpOp(ctx, "POST", nodes[i%len(nodes)].http, "/nacos/v1/ns/instance", registerForm(plan.service(i), instanceIP(i), 7000, true, plan.metadata()), "", nil)
			if err == nil {
				st.registered[i].Store(time.Now().UnixNano())
			}
			return err
		})
		regFailed.Store(r.Failed)
		if r.FirstErr != "" {
			regErr.Store(r.FirstErr)
		}
		if r.OK == int64(plan.n) {
			regBeats.Store(beatsOK.Load())
			steady.Store(startCPU(pidsOf(nodes)...))
			steadySelf.Store(startCPU(os.Getpid()))
			regDone.Store(time.Now().UnixNano())
		}
	}()

	// Beats: a dispatcher releases each beat at its due time to workers.
	jobs := make(chan int, 8192)
	var lagMu sync.Mutex
	var lags, lats []time.Duration
	var beatErr atomic.Value
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		for cycle := 0; ctx.Err() == nil; cycle++ {
			for i := 0; i < plan.n && ctx.Err() == nil; i++ {
				due := plan.due(start, cycle, i)
				if d := time.Until(due); d > time.Millisecond {
					select {
					case <-ctx.Done():
						return
					case <-time.After(d):
					}
				}
				if st.registered[i].Load() == 0 {
					continue
				}
				select {
				case jobs <- i:
				case <-ctx.Done():
					return
				}
				if lag := time.Since(due); lag > 0 {
					lagMu.Lock()
					if len(lags) < maxLatSamples {
						lags = append(lags, lag)
					}
					lagMu.Unlock()
				}
			}
		}
	}()
	for w := 0; w < o.beatWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One keep-alive connection to each node, and the form built
			// in place: the generator's CPU stays well below the servers'.
			conns := make([]*leanConn, len(nodes))
			for k, nd := range nodes {
				conns[k] = newLeanConn(nd.http, 15*time.Second)
				defer conns[k].Close()
			}
			var form []byte
			for i := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				nd := nodes[i%len(nodes)]
				form = appendBeatForm(form[:0], plan.service(i), instanceIP(i), 7000)
				t0 := time.Now()
				code, body, err := conns[i%len(nodes)].do(ctx, "PUT", beatPath, form)
				d := time.Since(t0)
				switch {
				case err != nil || code != 200:
					if ctx.Err() != nil || !time.Now().Before(end) {
						continue // cut by the end of the run, not refused
					}
					beatsFailed.Add(1)
					if err == nil {
						err = fmt.Errorf("%d %s", code, clip(body))
					}
					beatErr.CompareAndSwap(nil, err.Error())
				case bytes.Contains(body, []byte("20404")):
					// The server lost the instance: a client registers again.
					notFound.Add(1)
					_ = httpOp(ctx, "POST", nd.http, "/nacos/v1/ns/instance", registerForm(plan.service(i), instanceIP(i), 7000, true, plan.metadata()), "", nil)
				default:
					beatsOK.Add(1)
					lagMu.Lock()
					if len(lats) < maxLatSamples {
						lats = append(lats, d)
					}
					lagMu.Unlock()
				}
			}
		}()
	}

	// Poll every service's list, round-robin over the nodes.
	var polls, pollErrs atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for sweep := 0; ctx.Err() == nil; sweep++ {
			began := time.Now()
			seen := make([]bool, plan.n)
			for s := 0; s < plan.services() && ctx.Err() == nil; s++ {
				nd := nodes[(sweep+s)%len(nodes)]
				svc := plan.service(s * plan.perService)
				code, body, err := httpDo(ctx, "GET", nd.http, listPath(svc, url.Values{"healthyOnly": {"false"}}), nil, "")
				if err != nil || code != 200 {
					if ctx.Err() == nil {
						pollErrs.Add(1)
					}
					continue
				}
				polls.Add(1)
				err = scanHosts(body, func(ip []byte, healthy bool) {
					i, ok := byIP[string(ip)]
					if !ok {
						return
					}
					seen[i] = true
					if !healthy && st.registered[i].Load() != 0 {
						st.flipped[i].Store(true)
					}
				})
				if err != nil {
					pollErrs.Add(1)
				}
			}
			if ctx.Err() != nil {
				return
			}
			// Absent from every list of this sweep although registered
			// long before it began (replication has had its time).
			for i := 0; i < plan.n; i++ {
				if r := st.registered[i].Load(); !seen[i] && r != 0 && began.Sub(time.Unix(0, r)) > 10*time.Second {
					st.missing[i].Store(true)
				}
			}
			if rest := 5*time.Second - time.Since(began); rest > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(rest):
				}
			}
		}
	}()
	wg.Wait()
	elapsed := time.Since(start)
	used := cpu.used()
	if m := steady.Load(); m != nil {
		used = m.used()
	}
	usedSelf := self.used()
	if m := steadySelf.Load(); m != nil {
		usedSelf = m.used()
	}
	stopProfile()

	flips, missing, registered := 0, 0, 0
	for i := 0; i < plan.n; i++ {
		if st.flipped[i].Load() {
			flips++
		}
		if st.missing[i].Load() {
			missing++
		}
		if st.registered[i].Load() != 0 {
			registered++
		}
	}
	var rss int64
	for _, nd := range nodes {
		if m, err := nd.mem(); err == nil {
			rss += m.RSS
		}
	}
	beatWindow := elapsed
	if rd := regDone.Load(); rd != 0 {
		beatWindow = start.Add(elapsed).Sub(time.Unix(0, rd))
	}
	want := float64(plan.n) / plan.interval.Seconds()
	// Steady state: from the last registration on. When the registrations
	// never all succeeded, the whole run is what there is.
	rate, window, rateWhat := 0.0, beatWindow, "beats/s once all registered"
	if regDone.Load() == 0 {
		window, rateWhat = elapsed, "beats/s over the run (registrations never completed)"
		rate = float64(beatsOK.Load()) / elapsed.Seconds()
	} else if beatWindow > 0 {
		rate = float64(beatsOK.Load()-regBeats.Load()) / beatWindow.Seconds()
	}
	regNote := "all registered"
	if rd := regDone.Load(); rd != 0 {
		regNote = fmt.Sprintf("all %d registered after %s", plan.n, fmtDur(time.Unix(0, rd).Sub(start)))
	} else {
		regNote = fmt.Sprintf("only %d of %d registered", registered, plan.n)
		if e, ok := regErr.Load().(string); ok {
			regNote += ": " + oneLine(e)
		}
	}
	note := fmt.Sprintf("%d instances × beat every %v for %s (%s of them with all registered), %d services, 3 nodes; %s; beat latency %s; dispatch lag p99 %s; %d failed beats, %d answered 20404; %d list polls (%d errors); cluster CPU %.0f µs/beat over the same span (list polls included), harness CPU %.0f µs/beat (its own process: beat senders and list polls, same span), RSS of the 3 nodes %s",
		plan.n, plan.interval, fmtDur(elapsed), fmtDur(beatWindow), plan.services(), regNote, summarize(lats), fmtDur(percentile(lags, 99)),
		beatsFailed.Load(), notFound.Load(), polls.Load(), pollErrs.Load(), perOp(used, rate, window), perOp(usedSelf, rate, window), fmtBytes(rss))
	if e, ok := beatErr.Load().(string); ok {
		note += "; first beat error: " + oneLine(e)
	}
	rep.add(row{Scenario: "beats", Metric: fmt.Sprintf("false unhealthy flips, %s instances", fmtCount(float64(plan.n))), Sextant: fmt.Sprintf("%d (%d missing)", flips, missing),
		Target: "0 (issue: 100,000 instances for 10 min)", Verdict: judge(flips == 0 && missing == 0 && regDone.Load() != 0), Note: note})
	rep.add(row{Scenario: "beats", Metric: rateWhat, Sextant: fmtCount(rate), Refs: fmt.Sprintf("offered %s/s", fmtCount(want)),
		Ratio: ratio(rate, want), Target: "the offered rate (issue: 20,000/s)", Verdict: judge(rate >= 0.98*want)})
	return nil
}
