package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"sextant/dnsfront"
	"sextant/httpfront"
)

// gatewayCollector reports how fresh the gateway's data is and what its
// clients counted, from the same figures as GET /gateway/status.
type gatewayCollector struct {
	g  *gateway
	ds descs

	stale, staleFlag, lastContact, failover *prometheus.Desc
	namespaces, followed, serving           *prometheus.Desc
	pushesReceived, pushesApplied           *prometheus.Desc
	polls, pollFailures                     *prometheus.Desc
}

func newGatewayCollector(g *gateway) *gatewayCollector {
	c := &gatewayCollector{g: g}
	d := &c.ds
	c.stale = d.add("sextant_gateway_stale_seconds", "Seconds since a registry server last answered (since the start when none has): how old the data served may be.")
	c.staleFlag = d.add("sextant_gateway_stale", "1 while sextant_gateway_stale_seconds is at least stale-warn-after, else 0.")
	c.lastContact = d.add("sextant_gateway_last_contact_timestamp_seconds", "Unix time a registry server last answered; 0 if never.")
	c.failover = d.add("sextant_gateway_failover", "1 while a namespace's failover switch is on, else 0.")
	c.namespaces = d.add("sextant_gateway_namespaces", "Namespaces followed (one client each).")
	c.followed = d.add("sextant_gateway_followed_services", "Services followed, by how they were chosen (config or snapshot: on_demand=false; a DNS query: true).", "on_demand")
	c.serving = d.add("sextant_gateway_serving_instances", "Instances of followed services that DNS hands out (healthy, enabled, weight > 0).")
	c.pushesReceived = d.add("sextant_gateway_pushes_received_total", "UDP pushes received for followed services.")
	c.pushesApplied = d.add("sextant_gateway_pushes_applied_total", "UDP pushes that changed a followed service.")
	c.polls = d.add("sextant_gateway_polls_total", "instance/list polls of the registry.")
	c.pollFailures = d.add("sextant_gateway_poll_failures_total", "Polls that no registry server answered.")
	return c
}

func (c *gatewayCollector) Describe(ch chan<- *prometheus.Desc) { c.ds.describe(ch) }

func (c *gatewayCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.g.status(time.Now())
	e := emitter(ch)
	e.gauge(c.stale, st.StaleSeconds)
	e.gauge(c.staleFlag, boolValue(st.Stale))
	last := 0.0
	if st.LastServerContact != nil {
		last = float64(st.LastServerContact.UnixNano()) / 1e9
	}
	e.gauge(c.lastContact, last)
	e.gauge(c.failover, boolValue(st.Failover))
	e.gauge(c.namespaces, float64(len(st.Namespaces)))
	var onDemand, configured, serving int
	for _, s := range st.Services {
		if s.OnDemand {
			onDemand++
		} else {
			configured++
		}
		serving += s.Serving
	}
	e.gauge(c.followed, float64(configured), "false")
	e.gauge(c.followed, float64(onDemand), "true")
	e.gauge(c.serving, float64(serving))
	e.counter(c.pushesReceived, st.Counters.PushesReceived)
	e.counter(c.pushesApplied, st.Counters.PushesApplied)
	e.counter(c.polls, st.Counters.Polls)
	e.counter(c.pollFailures, st.Counters.PollFailures)
}

// instrument builds the gateway's metrics registry and hooks the HTTP
// front's request counts into it; the caller mounts the returned handler.
func (g *gateway) instrument(fcfg *httpfront.Config, log *logrus.Entry) {
	reg := newRegistry()
	hm := newHTTPMetrics(reg)
	reg.MustRegister(newGatewayCollector(g), newCatalogCollector(g.mirror),
		newDNSCollector(func() *dnsfront.Server { return g.dns }))
	fcfg.Metrics = metricsHandler(reg, log)
	fcfg.Observe = hm.observe
}
