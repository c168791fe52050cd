package main

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sextant/grpcfront"
)

// grpcMetrics counts the gRPC front's requests by type and outcome and
// times its pushes; grpcCollector reports its connection and push totals.
type grpcMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	delay    prometheus.Histogram
}

// grpcType is the label of a request type: the types served by name,
// others "other", so a client cannot grow the label set.
func grpcType(typ string) string {
	switch typ {
	case "ServerCheckRequest", "HealthCheckRequest", "InstanceRequest", "BatchInstanceRequest",
		"PersistentInstanceRequest", "SubscribeServiceRequest", "ServiceQueryRequest", "ServiceListRequest":
		return typ
	}
	return "other"
}

func newGRPCMetrics(reg prometheus.Registerer) *grpcMetrics {
	m := &grpcMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sextant_grpc_requests_total",
			Help: "gRPC requests (Nacos 2.x clients), by request type and result (200, or the Nacos error code answered)."},
			[]string{"type", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sextant_grpc_request_duration_seconds",
			Help: "Time to answer gRPC requests, by request type.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9)},
			[]string{"type"}),
		delay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sextant_grpc_push_delay_seconds",
			Help:    "Time from a change of a subscribed service reaching this node to the client's ack of its push.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
	}
	reg.MustRegister(m.requests, m.duration, m.delay)
	return m
}

func (m *grpcMetrics) observeRequest(typ string, code int, d time.Duration) {
	typ = grpcType(typ)
	m.requests.WithLabelValues(typ, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(typ).Observe(d.Seconds())
}

func (m *grpcMetrics) observePush(d time.Duration) { m.delay.Observe(d.Seconds()) }

// grpcCollector reports the front's counters at scrape time.
type grpcCollector struct {
	src                       func() *grpcfront.Server
	ds                        descs
	conns, bound, subs        *prometheus.Desc
	connEvents, pushes, renew *prometheus.Desc
	shed                      *prometheus.Desc
}

func newGRPCCollector(src func() *grpcfront.Server) *grpcCollector {
	c := &grpcCollector{src: src}
	c.conns = c.ds.add("sextant_grpc_connections", "gRPC client connections set up now.")
	c.bound = c.ds.add("sextant_grpc_bound_instances", "Ephemeral instances held by this node's gRPC connections.")
	c.subs = c.ds.add("sextant_grpc_subscriptions", "Subscriptions held by this node's gRPC connections.")
	c.connEvents = c.ds.add("sextant_grpc_connection_events_total", "gRPC connections by event: opened, closed, refused (over the limit), ejected (no answer to a probe), moved (asked to move while this member was cut off from the majority).", "event")
	c.pushes = c.ds.add("sextant_grpc_push_total", "gRPC pushes by outcome: sent (resends included), resent, acked, failed, superseded.", "outcome")
	c.renew = c.ds.add("sextant_grpc_renewals_total", "Beats of connection-bound instances at their responsible members, by result (ok, failed, reregistered).", "result")
	c.shed = c.ds.add("sextant_grpc_shed_total", "gRPC naming requests answered 503 at once because max-in-flight requests were being served.")
	return c
}

func (c *grpcCollector) Describe(ch chan<- *prometheus.Desc) { c.ds.describe(ch) }

func (c *grpcCollector) Collect(ch chan<- prometheus.Metric) {
	g := c.src()
	if g == nil {
		return
	}
	s, e := g.Stats(), emitter(ch)
	e.gauge(c.conns, float64(s.Connections))
	e.gauge(c.bound, float64(s.Bound))
	e.gauge(c.subs, float64(s.Subscriptions))
	e.counter(c.connEvents, s.Opened, "opened")
	e.counter(c.connEvents, s.Closed, "closed")
	e.counter(c.connEvents, s.Refused, "refused")
	e.counter(c.connEvents, s.Ejected, "ejected")
	e.counter(c.connEvents, s.MovedOff, "moved")
	e.counter(c.pushes, s.PushSent, "sent")
	e.counter(c.pushes, s.PushResent, "resent")
	e.counter(c.pushes, s.PushAcked, "acked")
	e.counter(c.pushes, s.PushFailed, "failed")
	e.counter(c.pushes, s.PushSuperseded, "superseded")
	e.counter(c.shed, s.Shed)
	e.counter(c.renew, s.Renewed, "ok")
	e.counter(c.renew, s.RenewFailed, "failed")
	e.counter(c.renew, s.Reregistered, "reregistered")
}
