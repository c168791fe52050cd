package grpcfront

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The two services of nacos.proto, registered by hand: their names carry
// no package, and every message is a *Payload (codec in wire.go).

// requestService is what grpc.ServiceDesc's HandlerType asks for.
type requestService interface {
	unary(ctx context.Context, p *Payload) *Payload
}

type biStreamService interface {
	biStream(stream grpc.ServerStream) error
}

func unaryHandler(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	growStack()
	var p Payload
	if err := dec(&p); err != nil {
		// A message gRPC could not decode still gets a Nacos answer.
		// (One over transportLimit never gets here: gRPC refuses it
		// with RESOURCE_EXHAUSTED.)
		if status.Code(err) == codes.ResourceExhausted {
			return errorPayload(codeTooLarge, "message too large: "+err.Error(), ""), nil
		}
		return errorPayload(codeParse, "payload does not parse: "+err.Error(), ""), nil
	}
	return srv.(requestService).unary(ctx, &p), nil
}

func biStreamHandler(srv any, stream grpc.ServerStream) error {
	return srv.(biStreamService).biStream(stream)
}

var requestDesc = grpc.ServiceDesc{
	ServiceName: "Request",
	HandlerType: (*requestService)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "request", Handler: unaryHandler}},
	Metadata:    "nacos.proto",
}

var biStreamDesc = grpc.ServiceDesc{
	ServiceName: "BiRequestStream",
	HandlerType: (*biStreamService)(nil),
	Streams: []grpc.StreamDesc{{StreamName: "requestBiStream", Handler: biStreamHandler,
		ServerStreams: true, ClientStreams: true}},
	Metadata: "nacos.proto",
}

// handlerStack is the stack a unary request needs, in bytes: the decode
// of its JSON body and the write through the Writer run deep. A node's CPU
// profile under registrations shows no growth after growStack with 8 KiB;
// 16 KiB cost twice as much, mostly in clearing the frame. A request that
// needs more still grows as usual.
const handlerStack = 8 << 10

// growStack makes the calling goroutine's stack hold handlerStack bytes
// in one step. grpc-go runs every unary request on a goroutine of its own
// that starts with a small stack, and the runtime grew it by doubling,
// copying the stack each time deeper in the request (8% of a
// registration's CPU in BenchmarkRegister); one frame of that size, while
// the stack is still shallow, costs one cheap copy instead.
//
//go:noinline
func growStack() {
	var frame [handlerStack]byte
	keep(frame[:])
}

//go:noinline
func keep([]byte) {}
