package httpfront

import "strings"

// busyText is the body of a request refused for load.
const busyText = "server is busy: too many requests in flight, retry later"

// exemptFromShedding reports whether a path is never refused for load
// (answered 503 at once when Config.MaxInFlight requests are already
// being served): health checks and metrics, as orchestrators must still
// reach a busy node (peers have their own bound, internal.go).
func exemptFromShedding(path string) bool {
	return strings.HasPrefix(path, consolePrefix+"/health/") || strings.HasPrefix(path, consolePrefixV2+"/health/") || path == MetricsPath
}

// Shed returns how many requests were refused for being over MaxInFlight.
func (s *Server) Shed() uint64 { return s.load.Shed() }

// InFlight returns the requests being served now (those counted against
// MaxInFlight).
func (s *Server) InFlight() int64 { return s.load.InFlight() }
