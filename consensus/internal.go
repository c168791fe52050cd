package consensus

import "net/http"

// InternalHandler is the one handler of a cluster node's node-to-node
// paths (everything under /sextant/), which the HTTP front dispatches to
// at its listener, past every public check: CPApplyPath goes to cpApply
// (Router.CPApplyHandler), every other path to node (membership and
// Distro: distro.NewNodeHandler).
func InternalHandler(cpApply, node http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == CPApplyPath {
			cpApply.ServeHTTP(w, r)
			return
		}
		node.ServeHTTP(w, r)
	})
}
