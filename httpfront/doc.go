// Package httpfront serves the Nacos v1 naming HTTP API (gin) over the
// catalog, so unmodified Nacos clients (nacos-sdk-go v1, Java 1.x, Node)
// work against Sextant, and sends their UDP pushes (package push).
//
// Reads go through naming.Reader; every change is one naming.Op handed to
// naming.Writer.Apply (Op.Time left zero for the writer to stamp), bounded
// by Config.ApplyTimeout. Errors map to statuses in one table (errors.go):
// ErrInvalid, ErrConflict and ErrForbidden give 400, ErrNotFound 404 or 400
// as the Nacos endpoint does, ErrUnavailable and timeouts 503, ErrTooLarge
// 413, anything else 500 "caused: <error>;". Error bodies are plain text.
//
// # Endpoints
//
// Under /nacos/v1/ns (alias /nacos/v1/ns/ops for /operator):
//
//	POST|DELETE|PUT|PATCH|GET /instance   register, deregister, update, patch, detail
//	GET  /instance/list                   query; udpPort > 0 subscribes to UDP push
//	PUT  /instance/beat                   full beat (beat JSON) or light beat (ip, port)
//	ANY  /instance/statuses               {"ips":["ip:port_healthy"]} for key=[ns##]group@@svc
//	PUT|DELETE /instance/metadata/batch   merge or remove metadata keys
//	POST|DELETE|PUT|GET /service          create, delete (empty only), update, detail
//	GET  /service/list                    {"count","doms"}; pageNo, pageSize required
//	ANY  /service/names                   grouped names per namespace
//	GET  /service/subscribers             UDP push subscribers
//	PUT  /cluster                         a cluster's health checker, ports, metadata, probe settings
//	GET|PUT /operator/switches            naming.Switches; entry, value
//	GET  /operator/metrics                status UP/DOWN and counts
//	GET  /operator/servers                cluster members
//	ANY  /operator/push/state             push counters; reset=true
//	GET  /raft/leader                     {"leader":"host:port"}
//	PUT  /health, /health/instance        set health where the checker is NONE
//	ANY  /health/server, GET /health/checkers
//	GET  /catalog/services, /catalog/service; ANY /catalog/instances
//
// Elsewhere: GET /nacos/v1/core/cluster/nodes and /nodes/self (RestResult),
// GET|POST|PUT|DELETE /nacos/v1/console/namespaces, GET
// /nacos/v1/console/health/readiness and /liveness, GET
// /nacos/v1/console/server/state.
//
// Access control (Config.Auth; Nacos-compatible): POST
// /nacos/v1/auth/users/login and /nacos/v1/auth/login (username, password)
// answer {"accessToken","tokenTtl","globalAdmin","username"}; GET|POST|PUT|
// DELETE /nacos/v1/auth/users, GET|POST|DELETE /nacos/v1/auth/roles and
// /nacos/v1/auth/permissions manage users (administrators only; a user may
// change its own password). With auth on, every Nacos API request carries
// a token (accessToken parameter or "Authorization: Bearer") or username
// and password parameters; namespaced routes need "r" (GET) or "w" (other
// methods) on namespaceId, switches changes and namespace management need
// an administrator, cluster views any user. Exempt: health
// readiness/liveness, /operator/metrics, /console/server/state, login, and
// everything outside the Nacos API. Refusals are 403 with Nacos's messages.
// Nothing is trusted because of a header such as User-Agent (auth.go).
//
// Load: at most Config.MaxInFlight requests are served at once; one more
// is answered 503 with Retry-After at once, never queued (health checks,
// metrics and the internal endpoints are not counted). With Config.TLS the
// front serves HTTPS only.
//
// Outside the Nacos API, Config.Metrics is served at GET /metrics and
// Config.Internal under /sextant/; Config.Observe hears of every request
// (route pattern, method, status, time taken) for metrics.
//
// An unknown path or method under /nacos/v1/ns answers 501 "no such
// api:<METHOD>:<URI>" as Nacos does; elsewhere 404 (405 for a wrong method).
// While Cluster.Ready fails, or the overriddenServerStatus switch is not UP,
// naming requests answer 503 "server is <STATUS> now, please try again
// later!" (reads pass in READ_ONLY, writes in WRITE_ONLY; switches and
// metrics always pass).
//
// # Parameters
//
// Parameters come from the query and a form body for every method, query
// first, as Java's getParameter merges them. Strings a client sent
// unescaped (nacos-sdk-go v1 sends GET/DELETE queries and PUT bodies so)
// are recognised by bytes any form encoder escapes ('{', '"', '@', ...): in
// them '+' stays '+' and a JSON value cut by a raw '&' is joined again. A
// stray '%' is kept rather than dropping the pair. Blank namespaceId is
// public; serviceName (alias dom) may be "group@@name" or take groupName
// (default DEFAULT_GROUP); clusterName falls back to cluster, then DEFAULT;
// enabled falls back to enable; booleans are naming.ParseBool values and
// anything else is a 400. Bodies over MaxBodyBytes answer 413.
//
// # Health checks
//
// PUT /cluster takes, beside Nacos's parameters, the probe settings of the
// cluster: checkInterval and checkTimeout (milliseconds, or Go durations
// such as "5s"), unhealthyThreshold and healthyThreshold (consecutive
// failed / good probes that flip an instance); 0 clears one, so the
// service's metadata or the node's default applies (package healthcheck).
// expectedResponseCode of an HTTP checker may list codes, classes and
// ranges ("200,204", "2xx", "200-299"). GET /service shows them per cluster.
// GET /instance adds lastCheck {"time","ok","reason"}: the last probe this
// node ran (SetCheckLog), else the check recorded with the instance's last
// change of health.
//
// # instance/list
//
// The body is encoded once per (service revision, clusters, env,
// healthyOnly, client flavour, cacheMillis) and kept in a cache bounded by
// count and by bytes (Config.ListCacheSize, ListCacheBytes; a body larger
// than the byte bound is encoded per request and not kept);
// lastRefTime (server time in ms) is appended when it is written. name is
// always grouped; dom and each host's serviceName are grouped for Java
// clients ≥ 1.0.0 (and Node, which reports itself so) and bare otherwise.
// cacheMillis is the switch defaultPushCacheMillis when the request
// subscribed for push, else defaultCacheMillis. Unknown services answer 200
// with "hosts":[]. Disabled instances are never listed; when the protect
// threshold is reached every enabled instance is listed as healthy and
// reachProtectionThreshold is true. A UDP push carries the same body.
//
// # Serving
//
// Start serves the socket with fasthttp (wire.go): GET instance/list, PUT
// instance/beat, POST and DELETE instance are answered natively, with the
// same behaviour as their gin routes (load shedding, readiness, access
// control, errors, push subscription, Config.Observe, panic recovery, the
// same status, Content-Type and body); every other request, and a hot one
// with debug logging on, on a node whose status refuses it, or a list with
// a body or asking a node with a CP leader for a consistent read, is
// converted to net/http and served by Handler. Nothing a handler keeps
// shares memory with fasthttp's reused buffers. A body over MaxBodyBytes
// (InternalMaxBodyBytes under /sextant/) gets 413 before it is read, a
// request line and headers over 16 KiB get 431.
//
// Handler, the net/http form of the whole API (for an outer net/http
// server), serves GET instance/list before gin's router in the same way
// (fastlist.go).
//
// # Deliberate differences from Nacos 1.4.1
//
//   - The protect threshold compares with "<" (0 turns it off); see naming.
//   - PUT /instance changes only weight, enabled and metadata of an existing
//     instance and keeps its health; PUT /service and PUT /cluster keep
//     metadata, selector and ports that are not given.
//   - DELETE /instance uses the stored instance's class, whatever the
//     ephemeral parameter says, so Go clients that send ephemeral=false
//     remove their ephemeral instance at once.
//   - GET /service/list with groupName=* lists grouped names.
//   - Label selectors are stored but not applied; service/names' expr is a
//     substring, not a regular expression.
//   - Subscribers of a client type or version Nacos would not push to poll
//     at defaultCacheMillis, as in Nacos. Pushes go to the request's source
//     address; clientIP is honoured only from Push.TrustedProxies (Nacos
//     honours it from anyone).
//
// gin prints route lines in its debug mode, a process-wide setting: the
// binary sets gin's mode once at start (or GIN_MODE=release); this package
// never changes it.
package httpfront
