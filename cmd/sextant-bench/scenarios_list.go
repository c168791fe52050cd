package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"
)

// scenarioList: GET instance/list of a 3-instance service against Sextant
// and against a minimal net/http server returning the very same bytes.
func (h *harness) scenarioList(ctx context.Context, rep *report) error {
	o := h.opts
	nodes, err := h.startNodes(ctx, 1)
	if err != nil {
		return err
	}
	nd := nodes[0]
	const service = "list-bench"
	md := `{"preserved.heart.beat.timeout":"86400000","preserved.ip.delete.timeout":"86400000","zone":"a","version":"1.2.3"}`
	if _, err := h.populate(ctx, nodes, 3, 1, true, md, func(i int) inst {
		return inst{service, instanceIP(i), 8080 + i}
	}); err != nil {
		return err
	}
	path := listPath(service, nil)
	resp, err := benchClient.Get("http://" + nd.http + path)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		return fmt.Errorf("instance/list: %d %v %s", resp.StatusCode, err, clip(body))
	}
	ctype := resp.Header.Get("Content-Type")
	dir, err := h.mkdir("list")
	if err != nil {
		return err
	}
	bfile := filepath.Join(dir, "body.json")
	if err := writeFile(bfile, body); err != nil {
		return err
	}

	gen := "wrk -t2"
	if !(o.httpLoad == "wrk" || (o.httpLoad == "auto" && h.tools.wrk != "")) {
		gen = "go generator"
	}
	load := func(u string) func(ctx context.Context) (float64, float64, error) {
		return func(ctx context.Context) (float64, float64, error) {
			rps, _, err := h.getLoad(ctx, u, o.httpConns, o.duration)
			return rps, rps * o.duration.Seconds(), err
		}
	}
	sx := &system{name: "sextant", pids: []int{nd.pid()}, run: load("http://" + nd.http + path)}
	ref := &system{name: "net/http precomputed"}
	systems := []*system{sx}
	if addr, c, err := h.startHTTPRef(ctx, dir, bfile, ctype, path); err != nil {
		ref.err = err
	} else {
		ref.pids, ref.run = []int{c.pid()}, load("http://"+addr+path)
		systems = append(systems, ref)
	}
	h.logf("list: %s -c%d, %d rounds of %v", gen, o.httpConns, o.rounds, o.duration)
	measureRounds(ctx, h, o.rounds, systems...)
	if !sx.ok() {
		return fmt.Errorf("sextant: %w", sx.err)
	}
	note := fmt.Sprintf("%s -c%d, best of %d rounds of %v (Sextant rounds %s); body %d B; server CPU per request: Sextant %s",
		gen, o.httpConns, o.rounds, o.duration, sx.roundsText(), len(body), fmtDur(sx.cpuPerOp()))
	r := row{Scenario: "list", Metric: "instance/list requests/s", Sextant: fmtCount(sx.best), Note: note,
		Target: "≥ 0.8× net/http precomputed"}
	if !ref.ok() {
		r.Refs = "net/http precomputed: " + oneLine(ref.err.Error())
	} else {
		r.Note += ", net/http " + fmtDur(ref.cpuPerOp())
		r.Refs = fmt.Sprintf("net/http precomputed %s (rounds %s); gin JSON per request ~45,000 (issue figure)", fmtCount(ref.best), ref.roundsText())
		r.Ratio = ratio(sx.best, ref.best)
		r.Verdict = judge(sx.best >= 0.8*ref.best)
	}
	rep.add(r)

	// The listener's handler, which serves the socket (the net/http
	// handler is gin's routes).
	allocs, line, err := benchAllocs(ctx, "./httpfront/", "BenchmarkWireList$", regexp.MustCompile(`^BenchmarkWireList`))
	if err != nil {
		rep.add(row{Scenario: "list", Metric: "allocs per list request", Note: oneLine(err.Error())})
	} else {
		rep.add(row{Scenario: "list", Metric: "allocs per list request", Sextant: strconv.Itoa(allocs),
			Note: "go test -bench BenchmarkWireList -benchmem ./httpfront/: " + line})
	}
	return nil
}

// perOp is CPU microseconds per operation at rate over dur.
func perOp(cpu time.Duration, rate float64, dur time.Duration) float64 {
	if rate <= 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / (rate * dur.Seconds())
}

// startHTTPRef starts the reference HTTP server as a separate process.
func (h *harness) startHTTPRef(ctx context.Context, dir, bfile, ctype, path string) (string, *child, error) {
	addr, _, err := freeUDPAddr()
	if err != nil {
		return "", nil, err
	}
	c, err := h.procs.start("http-ref", h.self, filepath.Join(dir, "http-ref.log"), "http-ref", "--addr", addr, "--body", bfile, "--content-type", ctype)
	if err != nil {
		return "", nil, err
	}
	if err := poll(ctx, 15*time.Second, 50*time.Millisecond, func() (bool, error) {
		if done, err := c.exited(); done {
			return false, fmt.Errorf("http-ref exited: %v\n%s", err, c.logTail())
		}
		code, _, err := httpDo(ctx, "GET", addr, path, nil, "")
		return err == nil && code == 200, nil
	}); err != nil {
		return "", nil, err
	}
	return addr, c, nil
}

// runHTTPRef is the http-ref subcommand: a net/http server answering every
// GET with the bytes of a file.
func runHTTPRef(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("http-ref", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	file := fs.String("body", "", "file whose bytes every answer carries")
	ctype := fs.String("content-type", "application/json", "Content-Type of the answers")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	body, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintln(stderr, "http-ref:", err)
		return 1
	}
	clen := strconv.Itoa(len(body))
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hd := w.Header()
			hd["Content-Type"] = []string{*ctype}
			hd["Content-Length"] = []string{clen}
			_, _ = w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "http-ref:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "http-ref:", err)
		return 1
	}
	return 0
}
