// Package client is a Go client of the Nacos v1 naming HTTP API with the
// high-availability features of the Nacos clients. It works against
// Sextant and against any server that speaks that API.
//
// # Servers and retry
//
// Servers come from Config.ServerAddrs or from an address server
// (Config.Endpoint, GET /nacos/serverlist, re-read every EndpointRefresh).
// Each request tries every server once, from a random start, each attempt
// bounded by TimeoutMs; a server that failed is tried after the others for
// ServerCooldown. A 2xx answer ends the request; so does a 4xx that blames
// the request (any but 403 with login on, 408 and 429), returned at once as
// a *StatusError because every server would say the same. When no server
// answers, the error is a *RequestError that lists each server's failure
// and wraps ErrAllServersFailed. With Username set, the client logs in
// (POST /v1/auth/users/login), sends accessToken with every request,
// renews it after 90% of tokenTtl and logs in again when a server answers
// 403. HTTPS is used with Scheme "https" or a CAFile.
//
// # Instances
//
// RegisterInstance, UpdateInstance and DeregisterInstance map to POST, PUT
// and DELETE /v1/ns/instance. An ephemeral instance gets a full beat (PUT
// /v1/ns/instance/beat with the beat JSON, from which a server re-creates
// an instance it lost) at the interval the server answers
// (clientBeatInterval); a beat answered with code 20404 registers the
// instance again. Beats run on at most BeatThreadNum workers.
//
// # Discovery, cache and subscriptions
//
// Every service read (GetService, Select*) or subscribed is held in
// memory and kept fresh: by UDP push (the client listens on PushAddr and
// sends udpPort and clientIP with instance/list; pushes are acked with
// push-ack, gzip is understood; pushes only update services held) and by polling at the cacheMillis the server answers, on at
// most UpdateThreadNum workers, backing off up to 20 s while no server
// answers. Reads are served from memory. A view older than the one held
// (by the time its request was sent) is dropped, and an empty instance
// list never replaces a non-empty one unless UpdateCacheWhenEmpty.
// Subscribe callbacks get the current list, then each change once, in
// order, on a goroutine per subscription.
//
// SelectOneHealthyInstance picks among healthy, enabled instances of
// positive weight in proportion to the weights; fractional weights work.
//
// # Snapshot and failover (on disk, under {CacheDir}/naming/{namespace}/)
//
// With SnapshotEnabled (off by default) each service held is written to a
// file of its own after every change, atomically (temporary file, fsync,
// rename), named by the path-escaped key "group@@service[@@clusters]"
// and holding the instance/list JSON. With LoadCacheAtStart, Start loads
// those files and serves them until a server answers. Files that cannot be
// parsed (corrupt, truncated) are skipped with a log line.
//
// With FailoverEnabled (on by default) the file failover/switch is read
// every FailoverCheckInterval: while it holds "1", services that have a
// file in failover/ are read from it instead of the servers (subscribers
// see the failover list as a change, and the held list again when the
// switch goes off). Failover files have the snapshot format, so a snapshot
// file may be copied there and edited by hand; a file names its service by
// its content, and hosts that leave out healthy, enabled, weight or
// ephemeral get true, true, 1 and true.
//
// # Lifecycle
//
// New(cfg, log) checks the configuration; Start opens the push socket,
// loads the snapshot and starts the background work; Close stops it (it
// does not deregister: instances expire when their beats stop). Calls
// made before Start work, but beats and polls begin at Start. Nothing is
// global: clients are independent of each other.
package client
