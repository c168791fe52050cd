// Package dnsfront is the DNS front of a Sextant node: it answers A, AAAA,
// SRV and TXT queries for the instances that receive traffic, over UDP and
// TCP on one address, authoritatively for one zone (default "nacos.").
//
// # Names
//
// Names are read from the right: the zone, then optional value.keyword
// pairs (keywords group, ns and cluster, in any order, each at most once,
// each value one label), then the keyword service; every label left of it
// is the service name, which may contain dots.
//
//	<service>.service[.<group>.group][.<namespace>.ns][.<cluster>.cluster].<zone>   A AAAA SRV TXT
//	_<service>._tcp.service[...].<zone>                                              SRV (RFC 2782; _udp too)
//	_<port>._tcp.<service>.service[...].<zone>                                       SRV; the port label is not used
//	<addr-label>.addr.<zone>                                                         A or AAAA
//	ns.<zone>                                                                        A or AAAA of this server
//
// The group defaults to DEFAULT_GROUP, the namespace to public, and without
// a cluster pair every cluster is served. Names match without regard to
// ASCII case; when services differ only in case, the one spelled exactly as
// asked wins, else the first in (namespace, group, name) order. Service
// names that look like the SRV forms (last label _tcp or _udp, or
// _x._tcp.<rest>) cannot be asked for in the plain form. Names with escapes
// (\. or \DDD) are read with the escapes resolved.
//
// An address label is the address in lowercase hex (either case is read):
// 8 digits for IPv4, 32 for IPv6, so 10.0.0.1 is 0a000001.addr.<zone>. Any
// well-formed label answers, whether or not an instance has the address,
// so SRV targets held in caches keep resolving.
//
// # Records
//
// A service answers with its instances that are healthy, enabled and of
// weight > 0; when the service's protect threshold is reached (healthy
// share below the threshold) with every enabled instance of weight > 0.
// A cluster pair narrows this, with the threshold applied to that cluster.
// A and AAAA hold one record per distinct address. SRV holds one record per
// distinct address and port (instances with port 0 are left out): priority
// 1; weight scaled so the largest weight among the records becomes 65535,
// rounded, at least 1, so relative weights survive clients such as HAProxy
// that divide by 256; target the address name above. The address record
// of every target goes into Additional, owned by a name spelled byte for
// byte like the target. TXT holds one record per distinct metadata set,
// one "key=value" string per entry sorted by key; entries longer than 255
// bytes are left out, and instances without metadata give no record.
// Records of a set share one TTL (Config.TTL) and come in an order that
// varies from query to query: shuffled on every query, or, for the UDP
// answers kept in wire form (below), one of up to 8 orders picked at
// random, rotations of one shuffle, so that each record comes first
// equally often.
//
// ANY gets the minimal answer of RFC 8482 for a service's names, one HINFO
// "RFC8482" record, so it amplifies nothing; the SOA at the apex. The
// apex has SOA (mname ns.<zone>, rname hostmaster.<zone>, a serial that
// moves on every data change, minimum and TTL Config.NegativeTTL) and NS
// ns.<zone>, whose address is the listen address when that is a specific
// IP. Zone transfers are refused.
//
// # Negative answers
//
// Negative answers are authoritative and carry the SOA in Authority.
// NXDOMAIN: a name the scheme cannot form (an unknown keyword, a repeated
// pair, a bad address label) or an unknown service. NODATA (NOERROR, no
// answer): a name that exists without records of the asked type, including
// unknown types; a service that exists but has no instance serving, in the
// asked cluster or at all (following RFC 8020 and CoreDNS rather than
// Consul's NXDOMAIN, so a caching resolver does not deny every name below
// it); the AAAA of an IPv4 target; and the empty non-terminals of the
// scheme (service.<zone>, addr.<zone>, value.keyword and keyword-only
// names such as x.group.<zone>, _tcp.service.<zone>, _tcp.<service>.service
// for an existing service, and trailing parts of dotted service names).
//
// A source that fetches services on demand (the gateway) sets
// Config.OnMiss: it hears of every query for a service it does not hold and
// may fetch it, after which the query is looked up once more.
//
// Names outside the zone are REFUSED, or, with Config.Recursors, forwarded
// over the query's transport to each recursor in turn (SERVFAIL when none
// answers) for clients in Config.RecursionAllow (default loopback only;
// others get REFUSED, so the node is never an open resolver). RA is set on
// every reply to a client that may recurse. With Config.RateLimit (on by
// default, DefaultRateLimit, for clients outside RateLimitExempt), UDP
// answers to one client network (/24, /56) are limited to that many per
// second (token bucket, one second of burst, bounded table); answers over
// it are dropped or sent empty with TC set, in turn, and TCP is never
// limited (ratelimit.go). Classes other than IN and ANY are REFUSED;
// opcodes other than QUERY get NOTIMP; a query without exactly one
// question, or with two OPT records, FORMERR; responses (QR=1) get no
// reply. A panic while answering is logged and
// answered SERVFAIL.
//
// # EDNS and size
//
// A query with an OPT record gets one back: version 0, this server's UDP
// size (Config.MaxUDPSize), the DO bit copied, no options, no other flags.
// EDNS version above 0 gets BADVERS with no answer. A UDP reply is at most
// the client's EDNS size (at least 512) capped at Config.MaxUDPSize, or 512
// bytes without EDNS; a TCP reply at most 65535 bytes. When a reply would
// be larger, address records in Additional go first, with no TC bit (RFC
// 2181 §9). If the answers themselves do not fit, as many as fit are kept
// and TC is set; for SRV each record is kept or dropped together with the
// address record of its target, so a client using a truncated answer (as
// HAProxy does) has an address for every target. The question is echoed
// byte for byte, case included (DNS 0x20).
//
// # Counters
//
// Server.Stats counts the replies sent, by query type and rcode, over TCP
// and truncated, for metrics; counting is one atomic add per reply.
//
// # Preparation
//
// Records are built once per change of a service, on the first query that
// needs them, not per query: a query looks the service up by its folded
// key in an index kept by the source's Watch, copies the prepared records of the
// asked cluster and type, shuffles, and fits them by their known wire
// sizes. A change made to the catalog is visible in the next query. A
// change itself reads no instance: over a source with views
// (naming.Catalog's View), the index keeps the changed service's view
// without building its instance list, and the first query walks its tree.
//
// # The UDP wire path
//
// Most UDP queries are answered from bytes to bytes without unpacking
// (wire.go, wirecache.go): a query with QR 0, opcode QUERY, one question of
// class IN or ANY whose name has only letters, digits, '-' and '_' and no
// compression, and nothing else but at most one OPT record of version 0
// whose options, if any, are NSID, COOKIE or PADDING (which both paths
// ignore). The first such query for a (name folded to lowercase, type,
// reply size limit, EDNS flags) has its answer packed by the full path in
// several orders and kept; later ones copy a kept answer and set
// the query's ID, RD and CD, RA for the client and the question bytes as
// asked. Only answers that cannot depend on the case of the name are kept:
// positive and untruncated, for a service whose name no other service
// shares but for case (and, with a cluster pair, whose clusters differ in
// more than case). A kept answer is dropped the moment its service
// changes; answers for other names (negative answers, the apex, address
// names) leave a marker that sends the next queries straight to the full
// path: for a name that is no service name for good, for a service name
// until that service changes, for a name no service has until a service is
// added or removed. Negative answers and the apex are built by the full
// path every time, so they always carry the current SOA serial; a data
// change moves the serial without building anything, and the SOA record
// is built once per serial, by the first answer that carries it. The rate limit, RA for the recursion
// ACL and the counters apply as on the full path, which is used for
// everything else, including every query while debug logging is on.
// The cache holds at most 32 MiB of answers and starts again from empty
// when full.
//
// # Sockets
//
// On Linux, UDP is served by socket loops (udploop_linux.go):
// Config.UDPSockets sockets (default one per CPU) share the address with
// SO_REUSEPORT, each read by one goroutine that takes up to 32 queries per
// recvmmsg, answers them on the wire path and sends the replies with one
// sendmmsg, without allocating. The queries it leaves go to the miekg/dns
// server through an in-memory connection (slowConn), so the full path sees
// them as it would from the socket (at most 1024 wait; more are dropped,
// as a full socket buffer would drop them). On a wildcard address each reply, on
// either path, leaves from the address its query was sent to (IP_PKTINFO,
// IPV6_PKTINFO), as the miekg/dns server does. On other systems the
// miekg/dns server reads the one UDP socket and every query takes the full
// path. TCP is always served by the miekg/dns server. Another process of
// the same user could bind the same UDP port with SO_REUSEPORT too; the
// TCP listener, bound without it, makes a second Sextant on the same port
// fail to start.
package dnsfront
