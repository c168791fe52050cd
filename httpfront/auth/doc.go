// Package auth is Sextant's access control, compatible with Nacos's: users
// log in with a password and get a token; every request then carries the
// token (as the accessToken parameter or an "Authorization: Bearer" header)
// or the username and password themselves, as the Node client sends them.
//
// Guarantees:
//   - Users, role bindings and permissions are CP data of the catalog
//     (naming.AuthState), changed only through naming ops and so stored and
//     replicated like services. Passwords are kept as bcrypt hashes, made on
//     the node that took the request; a plain password never enters an op,
//     a log or a snapshot.
//   - Tokens are JWTs signed with HMAC-SHA256. The signing secret is never a
//     built-in default: it comes from the configuration or, on a node that
//     runs alone, is generated on first start and kept in the data
//     directory with mode 0600. Members of a cluster must share it, so a
//     clustered node with auth on refuses to start without one.
//   - A token names its user and a digest of the user's password hash: it
//     stops working when the user is deleted or changes password, and when
//     it expires.
//   - Password checks are bounded: at most a few bcrypt comparisons run at
//     once (others wait briefly, then get ErrUnavailable), and the outcome
//     of a username/password pair is remembered, in a bounded table, while
//     the user's hash stays the same, so clients that send credentials on
//     every request cost one comparison.
//   - Denials wrap ErrDenied and carry Nacos's messages ("user not found!",
//     "token expired!", "token invalid!", "unknown user!", "authorization
//     failed!"); fronts answer them with 403.
//   - Authorisation: holders of naming.AdminRole may do everything; other
//     users need a permission of one of their roles on the namespace
//     ("r" to read, "w" to write, "rw" for both; the resource "*" covers
//     every namespace). Managing users and namespaces and changing switches
//     is for administrators.
//   - With Config.Enabled false, Check lets every request through; login
//     still works, so clients configured with credentials run unchanged.
//
// auth imports naming only. Nothing here trusts a header such as
// User-Agent.
package auth
