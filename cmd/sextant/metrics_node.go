package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"sextant/dnsfront"
	"sextant/grpcfront"
	"sextant/httpfront"
	"sextant/naming"
)

// catalogCollector reports what a catalog holds: services by namespace and
// instances by namespace, health and class. It walks the catalog at scrape
// time (a few milliseconds per million instances). /metrics needs no
// login, so unless byName every namespace but public is summed under
// namespace="other": its names are not told to whoever asks.
type catalogCollector struct {
	src interface {
		Services(ns, group string) []*naming.Service
	}
	byName    bool
	ds        descs
	services  *prometheus.Desc
	instances *prometheus.Desc
}

// otherNamespaces is the label of the namespaces summed when names are
// not shown.
const otherNamespaces = "other"

func newCatalogCollector(src interface {
	Services(ns, group string) []*naming.Service
}) *catalogCollector {
	c := &catalogCollector{src: src}
	c.services = c.ds.add("sextant_services", "Services held, by namespace.", "namespace")
	c.instances = c.ds.add("sextant_instances", "Instances held, by namespace, health and class (ephemeral or persistent).",
		"namespace", "healthy", "ephemeral")
	return c
}

func (c *catalogCollector) Describe(ch chan<- *prometheus.Desc) { c.ds.describe(ch) }

func (c *catalogCollector) Collect(ch chan<- prometheus.Metric) {
	type cell struct {
		ns                 string
		healthy, ephemeral bool
	}
	services := map[string]int{}
	instances := map[cell]int{}
	for _, svc := range c.src.Services("", "") {
		ns := svc.Key.Namespace
		if !c.byName && ns != naming.DefaultNamespace {
			ns = otherNamespaces
		}
		services[ns]++
		for _, in := range svc.Instances {
			instances[cell{ns, in.Healthy, in.Ephemeral}]++
		}
	}
	e := emitter(ch)
	for ns, n := range services {
		e.gauge(c.services, float64(n), ns)
		// Every combination is reported, zeros included, so that a ratio
		// of unhealthy to all instances is defined for each namespace.
		for _, h := range []bool{true, false} {
			for _, eph := range []bool{true, false} {
				e.gauge(c.instances, float64(instances[cell{ns, h, eph}]), ns, boolLabel(h), boolLabel(eph))
			}
		}
	}
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// dnsCollector reports a DNS front's counters.
type dnsCollector struct {
	dns       func() *dnsfront.Server
	ds        descs
	queries   *prometheus.Desc
	tcp       *prometheus.Desc
	truncated *prometheus.Desc
	limited   *prometheus.Desc
}

func newDNSCollector(dns func() *dnsfront.Server) *dnsCollector {
	c := &dnsCollector{dns: dns}
	c.queries = c.ds.add("sextant_dns_queries_total", "DNS replies sent, by query type and rcode.", "qtype", "rcode")
	c.tcp = c.ds.add("sextant_dns_tcp_queries_total", "DNS replies sent over TCP.")
	c.truncated = c.ds.add("sextant_dns_truncated_total", "DNS replies sent with the TC bit (answers cut to fit).")
	c.limited = c.ds.add("sextant_dns_rate_limited_total", "UDP answers over dns-rate-limit, by action: dropped, or truncated (sent empty with TC).", "action")
	return c
}

func (c *dnsCollector) Describe(ch chan<- *prometheus.Desc) { c.ds.describe(ch) }

func (c *dnsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.dns()
	if s == nil {
		return
	}
	st := s.Stats()
	e := emitter(ch)
	for _, q := range st.Queries {
		e.counter(c.queries, q.Count, q.Type, q.Rcode)
	}
	e.counter(c.tcp, st.TCP)
	e.counter(c.truncated, st.Truncated)
	dropped, slipped := s.RateLimited()
	e.counter(c.limited, dropped, "dropped")
	e.counter(c.limited, slipped, "truncated")
}

// nodeCollector reports the state of a server node's components: readiness,
// members, Raft, Distro, pushes, probes and health flips.
type nodeCollector struct {
	n  *node
	ds descs

	ready, members                                      *prometheus.Desc
	raftRole, raftTerm, raftLastIndex, raftCommit       *prometheus.Desc
	raftApplied, raftSnapshot, raftContact, raftVoters  *prometheus.Desc
	raftProposed, raftProposedOps, raftAppliedOps       *prometheus.Desc
	distroSync, distroSyncRecords, distroForwards       *prometheus.Desc
	distroForwardsFailed                                *prometheus.Desc
	distroForwardsRelayed                               *prometheus.Desc
	distroBeatNotices, distroBeatNoticesFailed          *prometheus.Desc
	distroRejected, distroVerify, distroVerifyFailed    *prometheus.Desc
	distroMismatch, distroRepaired, distroDirty         *prometheus.Desc
	distroPending, distroLoaded                         *prometheus.Desc
	distroTakeovers, distroStaleBeats, distroRetried    *prometheus.Desc
	distroStalls, distroStaleRegs, distroRevivals       *prometheus.Desc
	distroHeldDeregs, distroUnconfirmedDeregs           *prometheus.Desc
	pushes, subscribers                                 *prometheus.Desc
	probeTargets, probes, probeFailures, probeApplyErrs *prometheus.Desc
	probeLag, flips                                     *prometheus.Desc
	beatsHeld                                           *prometheus.Desc
	shed, inFlight                                      *prometheus.Desc
}

func newNodeCollector(n *node) *nodeCollector {
	c := &nodeCollector{n: n}
	d := &c.ds
	c.ready = d.add("sextant_ready", "1 while the node serves naming requests (readiness answers 200), else 0.")
	c.members = d.add("sextant_cluster_members", "Cluster members as this node sees them, by state (UP, SUSPICIOUS, DOWN, STARTING).", "state")

	c.raftRole = d.add("sextant_raft_role", "1 for this node's current Raft role (Leader, Follower, Candidate, Shutdown), 0 for the others.", "role")
	c.raftTerm = d.add("sextant_raft_term", "Current Raft term.")
	c.raftLastIndex = d.add("sextant_raft_last_log_index", "Last index in the Raft log.")
	c.raftCommit = d.add("sextant_raft_commit_index", "Last Raft index known committed.")
	c.raftApplied = d.add("sextant_raft_applied_index", "Last Raft index applied to the catalog.")
	c.raftSnapshot = d.add("sextant_raft_last_snapshot_index", "Raft index of the last snapshot.")
	c.raftContact = d.add("sextant_raft_last_contact_seconds", "Seconds since the Raft leader was last heard from (0 on the leader, -1 if never).")
	c.raftVoters = d.add("sextant_raft_voters", "Voters in the latest Raft configuration.")
	c.raftProposed = d.add("sextant_raft_proposed_entries_total", "Raft log entries this node proposed as leader.")
	c.raftProposedOps = d.add("sextant_raft_proposed_ops_total", "Ops in the entries this node proposed; ops/entries is the group-commit size.")
	c.raftAppliedOps = d.add("sextant_raft_applied_ops_total", "Ops the catalog applied from the Raft log.")

	c.distroSync = d.add("sextant_distro_syncs_total", "Distro sync messages to peers, by result (ok; relayed, of those ok, delivered through another member around a cut link; failed, queued again).", "result")
	c.distroSyncRecords = d.add("sextant_distro_sync_records_total", "Records delivered to peers by Distro sync.")
	c.distroForwards = d.add("sextant_distro_forwards_total", "Ephemeral writes forwarded to the responsible node.")
	c.distroForwardsFailed = d.add("sextant_distro_forward_failures_total", "Forwarded writes that did not reach the responsible node.")
	c.distroForwardsRelayed = d.add("sextant_distro_forwards_relayed_total", "Forward messages answered through another member, around a cut link.")
	c.distroBeatNotices = d.add("sextant_distro_beat_notices_total", "Beats of instances this node's copy holds, answered at once and forwarded without waiting (also counted as forwards).")
	c.distroBeatNoticesFailed = d.add("sextant_distro_beat_notice_failures_total", "Beats forwarded without waiting that the responsible node did not take.")
	c.distroRejected = d.add("sextant_distro_rejected_total", "Distro messages refused because the sender's member view differed.")
	c.distroVerify = d.add("sextant_distro_verify_rounds_total", "Distro checksum verify rounds run as owner.")
	c.distroVerifyFailed = d.add("sextant_distro_verify_failures_total", "Distro verify or fetch exchanges that failed.")
	c.distroMismatch = d.add("sextant_distro_verify_mismatches_total", "Services peers reported as differing in verify rounds.")
	c.distroRepaired = d.add("sextant_distro_repaired_total", "Records fetched by verify and merged.")
	c.distroLoaded = d.add("sextant_distro_loaded_records_total", "Records loaded from peers at start.")
	c.distroDirty = d.add("sextant_distro_dirty_services", "Services changed and waiting for the next sync (the sync lag).")
	c.distroTakeovers = d.add("sextant_distro_takeovers_total", "Writes applied by this node because the responsible node refused the connection (its process gone).")
	c.distroStaleBeats = d.add("sextant_distro_stale_beats_total", "Full beats sent before their instance's deregistration, answered not found instead of re-creating it.")
	c.distroRetried = d.add("sextant_distro_beat_notices_retried_total", "Beats answered at once whose message to the responsible node was lost and that were sent again.")
	c.distroStalls = d.add("sextant_distro_stalls_total", "Times this node found it had not run for 2 s or more (stopped, frozen) and refused writes for a moment after.")
	c.distroStaleRegs = d.add("sextant_distro_stale_registrations_total", "Registrations sent before their instance's deregistration (their clients gave up on them), refused instead of re-creating it.")
	c.distroRevivals = d.add("sextant_distro_revivals_total", "Instances created over their tombstone, created by a write applied late, or revived by a received record; each is logged.")
	c.distroUnconfirmedDeregs = d.add("sextant_distro_unconfirmed_deregistrations_total", "Clients' deregistrations this node, responsible for them, answered before a live peer confirmed holding them (none did within 500 ms, or the last such wait had run out); a crash of this node right after may lose them until the instances expire.")
	c.distroHeldDeregs = d.add("sextant_distro_held_deregistrations_total", "Peers' copies of an instance, stamped after its client's deregistration, that lost to it because they arrived within the hold (clocks apart); each is logged.")
	c.distroPending = d.add("sextant_distro_pending_services", "Services queued for peers, summed over peers; grows while a peer is unreachable.")

	c.pushes = d.add("sextant_push_total", "UDP pushes to subscribers, by outcome: sent (first transmissions), acked, failed (given up), superseded. "+
		"PUT /nacos/v1/ns/operator/push/state?reset=true sets them back to zero.", "outcome")
	c.subscribers = d.add("sextant_push_subscribers", "UDP push subscriptions held.")
	c.shed = d.add("sextant_http_shed_total", "HTTP requests answered 503 at once because max-in-flight requests were being served.")
	c.inFlight = d.add("sextant_http_in_flight", "HTTP requests being served now (those counted against max-in-flight).")

	c.probeTargets = d.add("sextant_probe_targets", "Persistent instances this node probes.")
	c.probes = d.add("sextant_probes_total", "Server-side probes of persistent instances ended.")
	c.probeFailures = d.add("sextant_probe_failures_total", "Probes that failed.")
	c.probeApplyErrs = d.add("sextant_probe_apply_errors_total", "Health changes from probes the writer refused or could not commit in time.")
	c.probeLag = d.add("sextant_probe_lag_seconds_total", "Sum of how late each probe started after it was due; its rate over the probe rate is the mean delay.")
	c.flips = d.add("sextant_health_flips_total", "Changes of instance health made by this node, by checker (beat: ephemeral instances; probe: persistent) and new health.",
		"checker", "to")
	c.beatsHeld = d.add("sextant_beat_removals_held_total", "Removals of silent ephemeral instances that self-preservation held back while a member was unreachable (one per instance per sweep).")
	return c
}

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) { c.ds.describe(ch) }

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	n, e := c.n, emitter(ch)
	if n.status != nil {
		e.gauge(c.ready, boolValue(n.status.Ready() == nil))
		states := map[string]int{naming.MemberUp: 0, naming.MemberSuspicious: 0, naming.MemberDown: 0, naming.MemberStarting: 0}
		for _, m := range n.status.Members() {
			states[m.State]++
		}
		for st, k := range states {
			e.gauge(c.members, float64(k), st)
		}
	}
	if n.cluster != nil {
		c.collectRaft(e)
		c.collectDistro(e)
	}
	if n.http != nil {
		p := n.http.PushStats()
		e.counter(c.pushes, p.Total, "sent")
		e.counter(c.pushes, p.Succeed, "acked")
		e.counter(c.pushes, p.Failed, "failed")
		e.counter(c.pushes, p.Superseded, "superseded")
		e.gauge(c.subscribers, float64(n.http.Subscribers()))
		e.counter(c.shed, n.http.Shed())
		e.gauge(c.inFlight, float64(n.http.InFlight()))
	}
	if n.beats != nil {
		e.counter(c.beatsHeld, n.beats.Stats().Held)
	}
	f := n.catalog.HealthFlips()
	e.counter(c.flips, f.ToHealthy, "beat", "healthy")
	e.counter(c.flips, f.ToUnhealthy, "beat", "unhealthy")
	if n.probes != nil {
		s := n.probes.Stats()
		e.gauge(c.probeTargets, float64(s.Targets))
		e.counter(c.probes, s.Probes)
		e.counter(c.probeFailures, s.Failures)
		e.counter(c.probeApplyErrs, s.ApplyErrors)
		e.counterf(c.probeLag, s.Lag.Seconds())
		e.counter(c.flips, s.FlipsHealthy, "probe", "healthy")
		e.counter(c.flips, s.FlipsUnhealthy, "probe", "unhealthy")
	}
}

func (c *nodeCollector) collectRaft(e emitter) {
	r := c.n.cluster.raft
	if r == nil {
		return
	}
	s := r.Stats()
	for _, role := range []string{"Leader", "Follower", "Candidate", "Shutdown"} {
		e.gauge(c.raftRole, boolValue(s.Role == role), role)
	}
	e.gauge(c.raftTerm, float64(s.Term))
	e.gauge(c.raftLastIndex, float64(s.LastLogIndex))
	e.gauge(c.raftCommit, float64(s.CommitIndex))
	e.gauge(c.raftApplied, float64(s.AppliedIndex))
	e.gauge(c.raftSnapshot, float64(s.LastSnapshotIndex))
	contact := -1.0
	if !s.LastContact.IsZero() {
		contact = max(time.Since(s.LastContact).Seconds(), 0)
	}
	e.gauge(c.raftContact, contact)
	e.gauge(c.raftVoters, float64(s.Voters))
	e.counter(c.raftProposed, s.ProposedEntries)
	e.counter(c.raftProposedOps, s.ProposedOps)
	e.counter(c.raftAppliedOps, s.AppliedOps)
}

func (c *nodeCollector) collectDistro(e emitter) {
	d := c.n.cluster.distro
	if d == nil {
		return
	}
	s := d.Stats()
	e.counter(c.distroSync, s.SyncOK, "ok")
	e.counter(c.distroSync, s.SyncFailed, "failed")
	e.counter(c.distroSync, s.SyncRelayed, "relayed")
	e.counter(c.distroSyncRecords, s.SyncRecords)
	e.counter(c.distroForwards, s.Forwards)
	e.counter(c.distroBeatNotices, s.BeatNotices)
	e.counter(c.distroBeatNoticesFailed, s.BeatNoticesFailed)
	e.counter(c.distroForwardsFailed, s.ForwardsFailed)
	e.counter(c.distroForwardsRelayed, s.ForwardsRelayed)
	e.counter(c.distroRejected, s.Rejected)
	e.counter(c.distroVerify, s.VerifyRounds)
	e.counter(c.distroVerifyFailed, s.VerifyFailed)
	e.counter(c.distroMismatch, s.VerifyMismatch)
	e.counter(c.distroRepaired, s.Repaired)
	e.counter(c.distroLoaded, s.LoadedRecords)
	e.gauge(c.distroDirty, float64(s.Dirty))
	e.gauge(c.distroPending, float64(s.Pending))
	e.counter(c.distroTakeovers, s.Takeovers)
	e.counter(c.distroStaleBeats, s.StaleBeats)
	e.counter(c.distroRetried, s.BeatNoticesRetried)
	e.counter(c.distroStalls, s.Stalls)
	e.counter(c.distroStaleRegs, s.StaleRegistrations)
	e.counter(c.distroRevivals, s.Revivals)
	e.counter(c.distroHeldDeregs, s.HeldDeregistrations)
	e.counter(c.distroUnconfirmedDeregs, s.UnconfirmedDeregistrations)
}

// instrument builds the node's metrics registry, mounts it at /metrics of
// the HTTP front and hooks the front's request counts into it. It returns
// the writer the front should use (the node's writer, counting writes) and
// the write counts. Namespace names label the catalog series only with
// nsLabels.
func (n *node) instrument(fcfg *httpfront.Config, nsLabels bool, log *logrus.Entry) (owningWriter, *writeMetrics) {
	reg := newRegistry()
	n.metrics = reg
	hm := newHTTPMetrics(reg)
	wm := newWriteMetrics()
	cc := newCatalogCollector(n.catalog)
	cc.byName = nsLabels
	reg.MustRegister(wm, cc, newDNSCollector(func() *dnsfront.Server { return n.dns }), newNodeCollector(n),
		newGRPCCollector(func() *grpcfront.Server { return n.grpc }))
	fcfg.Metrics = metricsHandler(reg, log)
	fcfg.Observe = hm.observe
	return wm.wrap(n.writer), wm
}
