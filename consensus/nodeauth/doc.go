// Package nodeauth signs and checks the node-to-node HTTP requests of a
// cluster (everything under /sextant/) with the cluster secret, so that
// the secret itself never crosses the network.
//
// A signed request carries the sender's clock (TimeHeader, Unix
// milliseconds), a random nonce (NonceHeader), the SHA-256 of its body
// (DigestHeader) and SignatureHeader: HMAC-SHA256 of the secret over the
// method, the request URI, the sender (FromHeader), the time, the nonce
// and the digest. A receiver checks, in this order and before reading a
// byte of the body: the headers are present and well formed, the time is
// within Window of its own clock, the signature matches. Only then does it
// read the body, up to the handler's bound, and check the digest; a nonce
// seen within the window is refused, so a recorded request cannot be
// replayed. Requests that fail get 401 with a message saying what failed,
// and reach no handler. Each Guard bounds the signed requests it serves at
// once (MaxInFlight); more get 503 at once.
//
// An empty secret signs nothing and checks nothing: only tests run that
// way; a cluster member refuses to start without a secret.
package nodeauth
