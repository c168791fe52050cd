package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"sextant/grpcfront"
)

// bareFanout is the reference of the grpc-push scenario (the grpc-ref
// subcommand, a process of its own): a grpc-go server with no registry
// behind it, speaking just enough of the Nacos 2.x protocol for the same
// subscribers (ServerCheck, setup, subscribe, health). A request of type
// benchPushType makes it send that request's body as a push on every
// stream, from the stream's handler. Its delays are the floor grpc-go
// and the subscribers set on this machine.
type bareFanout struct {
	// idle, when set, makes every bi-stream hold its connection with the
	// handler's goroutine alone (the grpc-idle reference): one probe, no
	// pushes.
	idle    bool
	mu      sync.Mutex
	streams []chan []byte
}

const (
	benchPushType = "BenchPushRequest"
	// benchStatsType asks the reference for its memory after a collection
	// (refStats).
	benchStatsType = "BenchStatsRequest"
)

// refStats is what the reference answers to benchStatsType: its live heap
// right after a forced collection, its goroutines and their stacks.
type refStats struct {
	Success    bool   `json:"success"`
	Live       uint64 `json:"live"`
	Goroutines int    `json:"goroutines"`
	Stacks     uint64 `json:"stacks"`
}

// stats collects garbage and reads what is left.
func (b *bareFanout) stats() []byte {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(sample)
	out, _ := json.Marshal(refStats{Success: true, Live: sample[0].Value.Uint64(), Stacks: sample[1].Value.Uint64(),
		Goroutines: runtime.NumGoroutine()})
	return out
}

// unary answers every request with success, under the answer type the
// subscribers check (HealthCheckResponse for health checks).
func (b *bareFanout) unary(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	var p grpcfront.Payload
	if err := dec(&p); err != nil {
		return nil, err
	}
	switch p.Type {
	case benchPushType:
		b.push(p.Body)
	case benchStatsType:
		return &grpcfront.Payload{Type: "BenchStatsResponse", Body: b.stats()}, nil
	}
	typ := map[string]string{"ServerCheckRequest": "ServerCheckResponse", "HealthCheckRequest": "HealthCheckResponse"}[p.Type]
	if typ == "" {
		typ = "SubscribeServiceResponse"
	}
	return &grpcfront.Payload{Type: typ, Body: []byte(`{"resultCode":200,"errorCode":0,"success":true,"connectionId":"bare"}`)}, nil
}

// biStream reads the setup and the acks on a goroutine of its own and
// sends every push queued for the stream.
func (b *bareFanout) biStream(_ any, st grpc.ServerStream) error {
	if b.idle {
		// One probe once the stream is set up, as the node probes a
		// connection idle for 20 s: the stream then holds what sending
		// on it costs grpc-go.
		for n := 0; ; n++ {
			var p grpcfront.Payload
			if err := st.RecvMsg(&p); err != nil {
				return nil
			}
			if n == 0 {
				if err := st.SendMsg(&grpcfront.Payload{Type: "ClientDetectionRequest", Body: []byte(`{"requestId":"1","module":"internal"}`)}); err != nil {
					return err
				}
			}
		}
	}
	ch := make(chan []byte, 1)
	b.mu.Lock()
	b.streams = append(b.streams, ch)
	b.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var p grpcfront.Payload
			if err := st.RecvMsg(&p); err != nil {
				return
			}
		}
	}()
	for {
		select {
		case <-done:
			return nil
		case body := <-ch:
			if err := st.SendMsg(&grpcfront.Payload{Type: "NotifySubscriberRequest", Body: body}); err != nil {
				return err
			}
		}
	}
}

// push queues body on every stream.
func (b *bareFanout) push(body []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.streams {
		select {
		case ch <- body:
		default:
		}
	}
}

// runGRPCRef is the grpc-ref subcommand.
func runGRPCRef(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("grpc-ref", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	idle := fs.Bool("idle", false, "hold bi-streams with one goroutine each and push nothing (the grpc-idle reference)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "grpc-ref:", err)
		return 1
	}
	b := &bareFanout{idle: *idle}
	gs := grpc.NewServer(grpc.ForceServerCodec(grpcfront.Codec{}))
	anyHandler := (*any)(nil)
	gs.RegisterService(&grpc.ServiceDesc{ServiceName: "Request", HandlerType: anyHandler,
		Methods: []grpc.MethodDesc{{MethodName: "request", Handler: b.unary}}}, b)
	gs.RegisterService(&grpc.ServiceDesc{ServiceName: "BiRequestStream", HandlerType: anyHandler,
		Streams: []grpc.StreamDesc{{StreamName: "requestBiStream", Handler: b.biStream, ServerStreams: true, ClientStreams: true}}}, b)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		gs.Stop()
	}()
	if err := gs.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		fmt.Fprintln(stderr, "grpc-ref:", err)
		return 1
	}
	return 0
}

// startGRPCRef starts the grpc-ref process and returns its address once
// it answers.
func (h *harness) startGRPCRef(ctx context.Context, args ...string) (string, *child, error) {
	addr, _, err := freeUDPAddr()
	if err != nil {
		return "", nil, err
	}
	dir, err := h.mkdir("grpc-ref")
	if err != nil {
		return "", nil, err
	}
	c, err := h.procs.start("grpc-ref", h.self, filepath.Join(dir, "grpc-ref.log"), append([]string{"grpc-ref", "--addr", addr}, args...)...)
	if err != nil {
		return "", nil, err
	}
	if err := poll(ctx, 15*time.Second, 50*time.Millisecond, func() (bool, error) {
		if done, err := c.exited(); done {
			return false, fmt.Errorf("grpc-ref exited: %v\n%s", err, c.logTail())
		}
		cl, err := dialGRPC(ctx, addr, nil)
		if err != nil {
			return false, nil
		}
		cl.cc.Close()
		return true, nil
	}); err != nil {
		return "", nil, err
	}
	return addr, c, nil
}
