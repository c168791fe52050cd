package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/miekg/dns"
)

// The reference DNS server: miekg/dns's server loop answering each query
// with bytes packed in advance (the same bytes Sextant sent for that name),
// only the ID patched. It is the ceiling of a Go server built on miekg/dns.

// answerKey identifies a precomputed answer.
type answerKey struct {
	name  string
	qtype uint16
}

// writeAnswers stores packed DNS messages as a sequence of
// (uint16 length, bytes) records.
func writeAnswers(w io.Writer, msgs [][]byte) error {
	bw := bufio.NewWriter(w)
	for _, m := range msgs {
		if len(m) > 0xffff {
			return fmt.Errorf("answer of %d bytes is too large", len(m))
		}
		var n [2]byte
		binary.BigEndian.PutUint16(n[:], uint16(len(m)))
		bw.Write(n[:])
		bw.Write(m)
	}
	return bw.Flush()
}

// readAnswers reads what writeAnswers wrote.
func readAnswers(r io.Reader) ([][]byte, error) {
	br := bufio.NewReader(r)
	var out [][]byte
	for {
		var n [2]byte
		if _, err := io.ReadFull(br, n[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		m := make([]byte, binary.BigEndian.Uint16(n[:]))
		if _, err := io.ReadFull(br, m); err != nil {
			return nil, fmt.Errorf("truncated answers file: %w", err)
		}
		out = append(out, m)
	}
}

// indexAnswers keys each packed answer by its question.
func indexAnswers(msgs [][]byte) (map[answerKey][]byte, error) {
	idx := make(map[answerKey][]byte, len(msgs))
	for i, b := range msgs {
		var m dns.Msg
		if err := m.Unpack(b); err != nil {
			return nil, fmt.Errorf("answer %d: %w", i, err)
		}
		if len(m.Question) != 1 {
			return nil, fmt.Errorf("answer %d has %d questions", i, len(m.Question))
		}
		q := m.Question[0]
		idx[answerKey{strings.ToLower(q.Name), q.Qtype}] = b
	}
	return idx, nil
}

// refHandler answers from the index.
type refHandler struct {
	idx  map[answerKey][]byte
	bufs sync.Pool
}

func (h *refHandler) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	if len(r.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	ans, ok := h.idx[answerKey{q.Name, q.Qtype}]
	if !ok {
		ans, ok = h.idx[answerKey{strings.ToLower(q.Name), q.Qtype}]
	}
	if !ok {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeNameError)
		_ = w.WriteMsg(m)
		return
	}
	bp := h.bufs.Get().(*[]byte)
	b := append((*bp)[:0], ans...)
	binary.BigEndian.PutUint16(b, r.Id)
	_, _ = w.Write(b)
	*bp = b
	h.bufs.Put(bp)
}

// runDNSRef is the dns-ref subcommand: serve the answers file on UDP
// until SIGTERM or SIGINT.
func runDNSRef(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("dns-ref", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "UDP address to serve on")
	file := fs.String("answers", "", "file of packed answers written by the harness")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	f, err := os.Open(*file)
	if err != nil {
		fmt.Fprintln(stderr, "dns-ref:", err)
		return 1
	}
	msgs, err := readAnswers(f)
	f.Close()
	if err != nil {
		fmt.Fprintln(stderr, "dns-ref:", err)
		return 1
	}
	idx, err := indexAnswers(msgs)
	if err != nil {
		fmt.Fprintln(stderr, "dns-ref:", err)
		return 1
	}
	h := &refHandler{idx: idx}
	h.bufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	srv := &dns.Server{Addr: *addr, Net: "udp", Handler: h, UDPSize: 4096}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown()
	}()
	if err := srv.ListenAndServe(); err != nil && ctx.Err() == nil {
		fmt.Fprintln(stderr, "dns-ref:", err)
		return 1
	}
	return 0
}

// zoneFile renders the records of the given answers as a zone file for
// zone (e.g. "nacos."), with an SOA and an NS whose address is nsAddr.
// Every answer and additional record appears once (OPT records are
// skipped); records are sorted so the output is stable.
func zoneFile(zone, nsAddr string, msgs [][]byte) (string, error) {
	zone = dns.Fqdn(strings.ToLower(zone))
	seen := map[string]bool{}
	var rrs []string
	for i, b := range msgs {
		var m dns.Msg
		if err := m.Unpack(b); err != nil {
			return "", fmt.Errorf("answer %d: %w", i, err)
		}
		for _, rr := range append(append([]dns.RR{}, m.Answer...), m.Extra...) {
			if rr.Header().Rrtype == dns.TypeOPT {
				continue
			}
			if !dns.IsSubDomain(zone, rr.Header().Name) {
				return "", fmt.Errorf("record %s is outside zone %s", rr.Header().Name, zone)
			}
			s := rr.String()
			if !seen[s] {
				seen[s] = true
				rrs = append(rrs, s)
			}
		}
	}
	sort.Strings(rrs)
	var sb strings.Builder
	fmt.Fprintf(&sb, "$ORIGIN %s\n$TTL 5\n", zone)
	fmt.Fprintf(&sb, "%s 5 IN SOA ns.%s hostmaster.%s 1 3600 600 86400 5\n", zone, zone, zone)
	fmt.Fprintf(&sb, "%s 5 IN NS ns.%s\n", zone, zone)
	fmt.Fprintf(&sb, "ns.%s 5 IN A %s\n", zone, nsAddr)
	for _, s := range rrs {
		sb.WriteString(s)
		sb.WriteByte('\n')
	}
	return sb.String(), nil
}

// knotConfig is a knotd configuration serving one zone file on 127.0.0.1.
func knotConfig(dir string, port int, zone, zonePath string) string {
	return fmt.Sprintf(`server:
    rundir: "%[1]s"
    listen: 127.0.0.1@%[2]d
    tcp-workers: 1
    background-workers: 1

log:
  - target: stderr
    any: warning

database:
    storage: "%[1]s/db"

control:
    listen: "%[1]s/knot.sock"

template:
  - id: default
    storage: "%[1]s"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none

zone:
  - domain: %[3]s
    file: "%[4]s"
`, dir, port, zone, zonePath)
}
