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
// Records of a set are shuffled on every query and share one TTL (Config.TTL).
//
// ANY gets one RRset (RFC 8482): the A records of a service (AAAA when it
// has none), the SRV records of an RFC 2782 name, the SOA at the apex. The
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
// every reply to a client that may recurse. With Config.RateLimit, UDP
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
// Records are built when the Source reports a change, not per query: a
// query looks the service up by its folded key in an index kept by
// Source.Watch, copies the prepared records of the asked cluster and type,
// shuffles, and fits them by their known wire sizes. A change made to the
// catalog is visible in the next query.
package dnsfront
