// Package push sends Nacos 1.x UDP pushes to subscribed clients.
//
// A client subscribes implicitly: every GET /nacos/v1/ns/instance/list with
// udpPort > 0 calls Pusher.Subscribe, which adds or refreshes a subscriber
// keyed by (service, target address): one per service and address, whatever
// the clusters string (the latest one is pushed). The target is the
// request's source address; with Target "clientIP" a request from a
// TrustedProxies network may name another in clientIP (Nacos trusts
// clientIP from anyone, which turns the node into a UDP reflector). One
// address receives at most MaxPerTarget subscriptions, one source makes at
// most MaxPerSource; beyond them Subscribe fails and the client polls.
//
// Expiry stays a sweep over the per-service table rather than a generic
// TTL cache (such as go-cache): pushes read a service's subscribers on
// every change, which a flat cache keyed by subscriber would have to scan.
//
// Guarantees:
//   - The catalog's Watch callback only marks the service dirty; it never
//     renders, sends or waits on a subscriber. The first change after a
//     quiet spell is pushed at once (within one 50 ms tick); changes that
//     follow within MergeDelay of a push are merged into one push per
//     subscriber, sent MergeDelay after the previous one.
//   - One packet is encoded per view (clusters, client flavour) and shared
//     by every subscriber of that view.
//   - A push is the datagram {"type":"dom","data":"<instance/list JSON as a
//     string>","lastRefTime":N}; N increases for the life of the Pusher and,
//     with the subscriber's address, is the ack's key. The data comes from the
//     Render function given to New, the same one the HTTP front uses for
//     instance/list, so a push and a poll show the same thing.
//   - Datagrams of 1024 bytes or more are gzip-compressed (clients detect
//     the 1F 8B magic).
//   - An ack {"type":"push-ack","lastRefTime":N} (N as a string or a number)
//     from the subscriber's address settles the push. An unacked push is sent
//     again after AckTimeout, at most Resends times, and is then counted
//     failed. A newer push to the same subscriber replaces an unacked older
//     one (counted as superseded, not failed).
//   - Subscribers not refreshed within SubscriberTTL get nothing and are
//     dropped. The subscriber table is bounded by MaxSubscribers; beyond it
//     Subscribe fails and the client is left to poll.
//
// Nacos clients read at most 4024 bytes per datagram (the Go SDK); a larger
// (compressed) push cannot be decoded by them and goes unacked. Polling, at
// the cacheMillis the list response carries, remains the fallback.
package push
