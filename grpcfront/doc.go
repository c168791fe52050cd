// Package grpcfront serves the naming part of the Nacos 2.x client protocol
// over gRPC, so that nacos-sdk-go/v2, the Java 2.x client and the
// frameworks built on them (Spring Cloud Alibaba) work against Sextant
// unchanged. It sees naming.Reader and naming.Writer only.
//
// # Protocol
//
// nacos.proto describes the two services, without a package line:
// /Request/request (unary) and /BiRequestStream/requestBiStream. They are
// registered by hand (service.go) and every message is one Payload,
// encoded by hand with protowire (wire.go): metadata.type names the Java
// class of the JSON in body.value, metadata.headers carries accessToken
// and app.
//
// Guarantees:
//   - ServerCheckRequest answers ServerCheckResponse with the id of the
//     HTTP/2 connection it came on ("<millis>_<ip>_<port>_<n>") and
//     supportAbilityNegotiation false; while Status.Ready fails it answers
//     ErrorResponse 300, so clients wait and ask again. The listener opens
//     only once the node is ready, so a client never waits past its deadline.
//   - ConnectionSetupRequest, the first message of the bi-stream, sets the
//     connection up and gets no reply. Any other request on a connection
//     not set up gets ErrorResponse 301; an unknown type 302; a body that
//     does not parse 502; a message over MaxMessageBytes 413. Client input
//     never panics the front (fuzz_test.go).
//   - Naming requests: InstanceRequest (register/deregister ephemeral),
//     BatchInstanceRequest, PersistentInstanceRequest, SubscribeServiceRequest,
//     ServiceQueryRequest, ServiceListRequest, HealthCheckRequest, answered
//     with the reply types of reference §5.3. serviceInfo.name is the bare
//     name with groupName beside it, clusters echoes the request, an empty
//     clusterName is DEFAULT, and lastRefTime strictly increases per
//     service. Registering the same instance twice is two successes.
//   - Failures of naming requests are ErrorResponse with Nacos codes (400
//     invalid, 404, 413 limits, 503 unavailable); with access control on,
//     a refusal is the handler's own answer type with errorCode 403, and
//     permissions are those of the HTTP front (Access, wired in cmd).
//   - Push: any change of a subscribed service that reaches this node's
//     catalog (from any member, any front, a health flip) is pushed as a
//     NotifySubscriberRequest whose requestId a connection never sees twice.
//     The first change after a quiet spell goes at once; later ones within
//     PushMergeDelay are merged. One render per (service, clusters), encoded
//     once, is sent as is to every subscriber. A push unacked after
//     PushAckTimeout is sent again (new requestId), at most PushRetries
//     times; a newer push replaces an unacked one. Each connection's sends
//     run on a goroutine of their own, started only while something is to
//     be sent, so a slow client holds up no one else.
//   - Connections: one silent for IdleProbe gets a ClientDetectionRequest;
//     no answer within ProbeTimeout ejects it. Close sends every client a
//     ConnectResetRequest and waits up to DrainTimeout for them to leave.
//     So does a member cut off from the majority (Config.CutOff) for
//     CutOffGrace, once per cut, failing those connections' health checks
//     from then on so that clients which check first move too.
//   - Ephemeral instances registered over a connection live as long as it
//     (DESIGN.md): removed when it ends (clean close or ejection), kept
//     alive at their responsible member meanwhile by batched beats, kept
//     (not removed) when the node itself is shutting down or asked the
//     client to move.
//   - Limits: MaxConnections (stream refused with RESOURCE_EXHAUSTED),
//     MaxSubscriptionsPerConn, MaxInstancesPerConn (ErrorResponse 413,
//     nothing changed), MaxMessageBytes (ErrorResponse 413, on the stream
//     too; only a message over twice the limit, and 1 MiB more, is refused
//     by gRPC itself with RESOURCE_EXHAUSTED),
//     MaxInFlight naming requests at once (ErrorResponse 503 at once, with
//     the same admit.Shedder the HTTP front uses; health checks pass).
package grpcfront
