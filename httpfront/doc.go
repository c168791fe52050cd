// Package httpfront serves the Nacos v1 naming HTTP API and the 2.x Open
// API (gin) over the
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
//	GET  /service/list                    {"count","doms"}; pageNo, pageSize required,
//	                                      pageSize clamped (2147483647 lists all);
//	                                      selector INSTANCE|SERVICE.metadata.k = 'v'
//	GET  /service/selector/types          RestResult ["none","label"]
//	ANY  /service/names                   grouped names per namespace
//	GET  /service/subscribers             UDP push subscribers
//	PUT  /cluster                         a cluster's health checker, ports, metadata, probe settings
//	GET|PUT /operator/switches            naming.Switches; entry, value
//	GET  /operator/metrics                status UP/DOWN and counts
//	GET  /operator/servers                cluster members
//	ANY  /operator/push/state             push counters; reset=true
//	GET  /raft/leader                     {"leader":"<RaftPeer JSON>"}, "null" without one
//	PUT  /health, /health/instance        set health where the checker is NONE
//	ANY  /health/server, GET /health/checkers
//	GET  /catalog/services, /catalog/service; ANY /catalog/instances
//
// Elsewhere: GET /nacos/v1/core/cluster/nodes, /self (alias /nodes/self),
// /simple/nodes and /health (RestResult), GET|POST|PUT|DELETE
// /nacos/v1/console/namespaces (GET with checkNamespaceIdExist=true and
// customNamespaceId answers true or false), GET
// /nacos/v1/console/health/readiness and /liveness, GET
// /nacos/v1/console/server/state.
//
// # Nacos 2.x Open API
//
// Under /nacos/v2/ns (v2_routes.go), the same handlers answer in the
// envelope {"code","message","data"}: code 0 "success" with the payload,
// or under the error's HTTP status a detail code (10000 parameter missing,
// 10001 access denied, 20002 parameter validate error, 20004 resource not
// found, 21003 instance not found, 21007 service already exist, 21008
// service not exist, 21010 healthy param miss, 21011 health check still
// running, 22001 namespace not exist, 30000 server error) with
// the error's text as data (v2_envelope.go). serviceName is bare with
// groupName, or grouped:
//
//	POST|DELETE|PUT|GET /instance         PUT updates an existing instance only
//	PATCH /instance, PUT /instance/beat,
//	ANY /instance/statuses/{key}          unwrapped, as in Nacos 2.x
//	GET  /instance/list                   2.x ServiceInfo; clusterName, healthyOnly; port > 0 (ip) subscribes to UDP push
//	PUT|DELETE /instance/metadata/batch
//	POST|DELETE|PUT|GET /service          PUT keeps protectThreshold when absent
//	GET  /service/list                    {"count","services"}; pageNo 1, pageSize 20 (≤ 500)
//	PUT  /health, /health/instance
//	GET|PUT /operator/switches (alias /ops), GET /operator/metrics (onlyStatus default true)
//	GET  /client/list, /client, /client/publish/list, /client/subscribe/list,
//	     /client/service/publisher/list, /client/service/subscriber/list
//	ANY  /catalog/instances               every cluster; healthyOnly, enabledOnly
//
// A client is, as in Nacos 2.x for HTTP, "ip:port#ephemeral": the address of
// the instances it registered, or of a UDP push subscriber. Also
// /nacos/v2/console/namespace (GET with namespaceId, /list, POST, PUT,
// DELETE; namespaceId and namespaceName), GET
// /nacos/v2/console/health/liveness and /readiness (data "ok"; no login,
// never shed) and
// /nacos/v2/core/cluster/node/self, /node/list (address, state) and
// /node/self/health. Access needs are those of the v1 routes; the client
// views span namespaces and need an administrator (service views: read on
// the namespace).
//
// Access control (Config.Auth; Nacos-compatible): POST
// /nacos/v1/auth/users/login and /nacos/v1/auth/login (username, password)
// answer {"accessToken","tokenTtl","globalAdmin","username"}; GET|POST|PUT|
// DELETE /nacos/v1/auth/users, GET|POST|DELETE /nacos/v1/auth/roles and
// /nacos/v1/auth/permissions manage users (administrators only; a user may
// change its own password); Nacos 2.x's GET /users/search and
// /roles/search (names holding the parameter, administrators only), PUT
// /users/password (oldPassword, newPassword: the caller's own) and POST
// /users/admin (the first administrator "nacos"; 409 once there is one).
// With auth off, login answers any username and password with a token
// nothing checks, as Nacos does. With auth on, every Nacos API request carries
// a token (accessToken parameter or "Authorization: Bearer") or username
// and password parameters; namespaced routes need "r" (GET) or "w" (other
// methods) on namespaceId, switches changes and namespace management need
// an administrator, cluster views any user. Exempt: health
// readiness/liveness, /operator/metrics, /console/server/state, login, and
// everything outside the Nacos API. Refusals are 403 with Nacos's messages.
// Nothing is trusted because of a header such as User-Agent (auth.go).
//
// Load: at most Config.MaxInFlight requests are served at once; one more
// is answered 503 with Retry-After at once, never queued (health checks
// and metrics are not counted; the internal endpoints have their own
// bound). With Config.TLS the front serves HTTPS only.
//
// Outside the Nacos API, Config.Metrics is served at GET /metrics;
// Config.Observe hears of every API request (route pattern, method,
// status, time taken) for metrics. Node-to-node requests (/sextant/) are
// handed to Config.Internal at the listener, before any public check, with
// their own bounds: InternalMaxBodyBytes, checked before the body is read,
// and InternalMaxInFlight (internal.go).
//
// The web console (package console) is served at /nacos/, and / and
// /nacos redirect there; GET /nacos/v1/console/cluster, /history and /dns
// give it what only the node knows (Config.Console), to any logged-in
// user (console_ui.go).
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
// than the byte bound is encoded per request and not kept). Requests that
// miss the same body together wait for one encoding of it. Each host is
// encoded once per instance value and kept within the same byte bound, so
// the body of a service after a change re-encodes the changed instances
// only and copies the rest; the bytes are those of encoding the whole body
// with encoding/json.
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
// Every route is one row of a table (routes.go): method, path, the access
// it needs, whether it is hot, and a handler that returns its answer. Every
// request of a row goes through the same checks, in this order, in one
// function (pipeline.go): panic recovery, load shedding, readiness,
// consistent read, access control, the handler, Config.Observe; a v2 row's
// answer, refusals included, is put in the 2.x envelope there.
//
// Start serves the socket with fasthttp (listener.go), which finds the
// request's row and runs the pipeline itself; the console's files,
// metrics, Config.Extra and unknown paths are converted to net/http and
// served by Handler. Nothing a handler keeps shares memory with fasthttp's
// reused buffers. A body over MaxBodyBytes (InternalMaxBodyBytes under
// /sextant/) gets 413 before it is read, a request line and headers over
// 16 KiB get 431.
//
// Handler, the net/http form of the whole API (tests, an outer net/http
// server), is gin serving the same rows through the same pipeline, and the
// node-to-node dispatch. The gateway serves through the listener too
// (Config.Extra holds its /gateway/status).
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
//   - Label selectors are applied by service/list only (as Nacos 1.4 does),
//     not by instance/list; service/names' expr is a substring, not a
//     regular expression.
//   - GET /service/list clamps pageSize rather than refusing a large one.
//   - Subscribers of a client type or version Nacos would not push to poll
//     at defaultCacheMillis, as in Nacos. Pushes go to the request's source
//     address; clientIP is honoured only from Push.TrustedProxies (Nacos
//     honours it from anyone).
//
// gin prints route lines in its debug mode, a process-wide setting: the
// binary sets gin's mode once at start (or GIN_MODE=release); this package
// never changes it.
package httpfront
