package httpfront

import (
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/sirupsen/logrus"

	"sextant/naming"
)

// Every API request goes through the same checks in the same order:
// recover → shed → readiness → consistent read → access → handler →
// observe. gin runs them as middlewares (middleware.go, shed.go,
// consistent.go, h), the listener's native routes inline (listener.go);
// what each check decides is written once, here and in the functions
// named: admit.Shedder (shed.go), access (auth.go), Config.Observe.

// panicked logs a panic recovered while serving path. What to answer is
// the caller's: panicAnswer, unless an answer was already made (it
// stands).
func (s *Server) panicked(path string, p any) {
	s.log.WithFields(logrus.Fields{"panic": p, "path": path, "stack": string(debug.Stack())}).Error("handler panicked")
}

// notServing is the readiness check of naming requests, as Nacos's
// traffic filter: while the server is not UP they are refused with 503,
// except that reads pass in READ_ONLY, writes in WRITE_ONLY, and the
// operator switches and metrics always. refused is false when the
// request may go on.
func (s *Server) notServing(method, path string, sw naming.Switches) (a answer, refused bool) {
	st, _ := s.statusWith(sw)
	if st == "UP" {
		return answer{}, false
	}
	get := method == http.MethodGet
	switch {
	case st == "READ_ONLY" && get, st == "WRITE_ONLY" && !get:
		return answer{}, false
	case strings.HasSuffix(path, "/switches") || strings.HasSuffix(path, "/metrics"):
		return answer{}, false
	}
	return answer{status: http.StatusServiceUnavailable, body: []byte("server is " + st + " now, please try again later!")}, true
}
