package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// dnsQuery is one name and type of the query mix.
type dnsQuery struct {
	name  string
	qtype uint16
}

// queryMix is half SRV, half A over services: _svc._tcp.service.<zone> SRV
// and svc.service.<zone> A, alternating.
func queryMix(services []string, zone string) []dnsQuery {
	var qs []dnsQuery
	for _, s := range services {
		qs = append(qs, dnsQuery{"_" + s + "._tcp.service." + zone, dns.TypeSRV}, dnsQuery{s + ".service." + zone, dns.TypeA})
	}
	return qs
}

// dnsperfInput is the query file of dnsperf: "name TYPE" per line.
func dnsperfInput(qs []dnsQuery) string {
	var b strings.Builder
	for _, q := range qs {
		b.WriteString(q.name)
		b.WriteByte(' ')
		b.WriteString(dns.TypeToString[q.qtype])
		b.WriteByte('\n')
	}
	return b.String()
}

// packQuery packs a query without EDNS.
func packQuery(q dnsQuery, id uint16) ([]byte, error) {
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	m.Id = id
	return m.Pack()
}

// exchangeRaw sends one packed query over UDP and returns the raw reply.
func exchangeRaw(addr string, q []byte, timeout time.Duration) ([]byte, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(q); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// captureAnswers asks addr every query once and returns the raw replies;
// each must be NOERROR with at least one answer.
func captureAnswers(addr string, qs []dnsQuery) ([][]byte, error) {
	out := make([][]byte, len(qs))
	for i, q := range qs {
		pq, err := packQuery(q, uint16(i))
		if err != nil {
			return nil, err
		}
		var raw []byte
		for try := 0; try < 3; try++ {
			if raw, err = exchangeRaw(addr, pq, time.Second); err == nil {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", q.name, dns.TypeToString[q.qtype], err)
		}
		var m dns.Msg
		if err := m.Unpack(raw); err != nil {
			return nil, fmt.Errorf("%s: reply does not unpack: %w", q.name, err)
		}
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 {
			return nil, fmt.Errorf("%s %s: rcode %s with %d answers", q.name, dns.TypeToString[q.qtype], dns.RcodeToString[m.Rcode], len(m.Answer))
		}
		out[i] = raw
	}
	return out, nil
}

// dnsLoadResult is what a DNS load measured.
type dnsLoadResult struct {
	QPS       float64
	Lost      int64
	Generator string
	Rcodes    string
}

// dnsLoad measures queries/s against addr with the query mix: dnsperf when
// asked for or found, the Go generator otherwise.
func (h *harness) dnsLoad(ctx context.Context, addr string, qs []dnsQuery, queryFile string, dur time.Duration) (dnsLoadResult, error) {
	use := h.opts.dnsLoad == "dnsperf" || (h.opts.dnsLoad == "auto" && h.tools.dnsperf != "")
	if use {
		if h.tools.dnsperf == "" {
			return dnsLoadResult{}, errors.New("dnsperf is not installed (apt-get install dnsperf, or --dns-load go)")
		}
		return runDnsperf(ctx, h.tools.dnsperf, addr, queryFile, h.opts.dnsClients, dur)
	}
	return goDNSLoad(ctx, addr, qs, h.opts.dnsClients, 16, dur)
}

// runDnsperf runs dnsperf -c clients for dur against addr.
func runDnsperf(ctx context.Context, dnsperf, addr, queryFile string, clients int, dur time.Duration) (dnsLoadResult, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return dnsLoadResult{}, err
	}
	secs := int(dur.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	ctx, cancel := context.WithTimeout(ctx, dur+30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, dnsperf, "-s", host, "-p", port, "-d", queryFile,
		"-c", strconv.Itoa(clients), "-l", strconv.Itoa(secs)).CombinedOutput()
	if err != nil {
		return dnsLoadResult{}, fmt.Errorf("dnsperf: %v\n%s", err, tail(out, 400))
	}
	r, err := parseDnsperf(out)
	r.Generator = "dnsperf"
	return r, err
}

// parseDnsperf reads queries/s, lost queries and response codes from
// dnsperf's statistics.
func parseDnsperf(out []byte) (dnsLoadResult, error) {
	var r dnsLoadResult
	found := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "Queries per second":
			v, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return r, fmt.Errorf("dnsperf output: %q", line)
			}
			r.QPS, found = v, true
		case "Queries lost":
			f := strings.Fields(val)
			if len(f) > 0 {
				r.Lost, _ = strconv.ParseInt(f[0], 10, 64)
			}
		case "Response codes":
			r.Rcodes = val
		}
	}
	if !found {
		return r, fmt.Errorf("dnsperf output has no queries per second: %s", tail(out, 300))
	}
	return r, nil
}

// goDNSLoad is the built-in generator: clients UDP sockets, each keeping
// window queries outstanding, for dur. A reply that does not come within
// 200 ms counts as lost and its slot is reused.
func goDNSLoad(ctx context.Context, addr string, qs []dnsQuery, clients, window int, dur time.Duration) (dnsLoadResult, error) {
	packed := make([][]byte, len(qs))
	for i, q := range qs {
		b, err := packQuery(q, 0)
		if err != nil {
			return dnsLoadResult{}, err
		}
		packed[i] = b
	}
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var done, lost atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("udp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			next := c * 7919
			send := func() {
				q := packed[next%len(packed)]
				next++
				b := make([]byte, len(q))
				copy(b, q)
				binary.BigEndian.PutUint16(b, uint16(next))
				_, _ = conn.Write(b)
			}
			for i := 0; i < window; i++ {
				send()
			}
			buf := make([]byte, 65535)
			for ctx.Err() == nil {
				_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				if _, err := conn.Read(buf); err != nil {
					if ctx.Err() != nil {
						return
					}
					lost.Add(int64(window))
					for i := 0; i < window; i++ {
						send()
					}
					continue
				}
				done.Add(1)
				send()
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return dnsLoadResult{}, err
	}
	el := time.Since(start)
	return dnsLoadResult{QPS: float64(done.Load()) / el.Seconds(), Lost: lost.Load(), Generator: fmt.Sprintf("go (%d sockets × %d outstanding)", clients, window)}, nil
}

// writeFile writes content to path.
func writeFile(path string, content []byte) error { return os.WriteFile(path, content, 0o644) }
