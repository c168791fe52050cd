package httpfront

import (
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"sextant/httpfront/auth"
	"sextant/naming"
)

// listRoute is the path of the query every client polls.
const listRoute = nsPrefix + "/instance/list"

// serveHTTP is the front's handler. GET instance/list, the request clients
// send most, is served by serveListFast without gin's routing, context and
// middleware chain; everything else, and the list requests serveListFast
// leaves alone, goes to gin.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == listRoute && s.serveListFast(w, r) {
		return
	}
	s.gin.ServeHTTP(w, r)
}

// serveListFast answers GET instance/list exactly as the gin route does
// (recovery, Config.Observe, load shedding, readiness, access control,
// parameter errors, push subscription, the same headers and body), with the
// parameters read straight from the query. It returns false, having done
// nothing, for the requests it leaves to gin: those with a body (its form
// parameters count), with debug logging on (one line per request), on a
// node that is not UP or READ_ONLY (503), and those asking for a
// consistent read from a node whose CP data has a leader.
func (s *Server) serveListFast(w http.ResponseWriter, r *http.Request) bool {
	if (r.Body != nil && r.Body != http.NoBody) || s.log.Logger.IsLevelEnabled(logrus.DebugLevel) {
		return false
	}
	if s.leaderReads && mayAskConsistent(r.URL.RawQuery) && wantsConsistent(r) {
		return false
	}
	sw := s.r.Switches()
	if st, _ := s.statusWith(sw); st != "UP" && st != "READ_ONLY" {
		return false
	}
	// One clock reading gives the time taken and lastRefTime.
	start := time.Now()
	written := false
	defer func() {
		if p := recover(); p != nil {
			s.fastPanicked(w, r, p, written)
		}
	}()
	status := s.fastList(w, r, sw, start.UnixMilli(), &written)
	if s.cfg.Observe != nil {
		s.cfg.Observe(listRoute, http.MethodGet, status, time.Since(start))
	}
	return true
}

// fastList is serveListFast once the request is known to be its own; it
// returns the status answered and sets *written before writing anything.
func (s *Server) fastList(w http.ResponseWriter, r *http.Request, sw naming.Switches, now int64, written *bool) int {
	counted, ok := s.load.Enter(s.cfg.MaxInFlight)
	defer s.load.Leave(counted)
	a := busyAnswer()
	if ok {
		lp := scanListParams(r.URL.RawQuery)
		var body listBody
		if body, a, ok = s.listFor(&lp, r.Header.Get("Authorization"), agentOf(r), remoteIP(r), sw); ok {
			ts := s.stamp(now)
			*written = true
			writeListBody(w, s.jsonType, s.date(now), body, ts)
			return http.StatusOK
		}
	} else {
		w.Header().Set("Retry-After", "1")
	}
	*written = true
	s.writeAnswer(w, a)
	return a.status
}

// listFor is GET instance/list past load shedding, as both fast paths
// (fastList, wireList) serve it: access control, the parameters, then the
// encoded body; ok false with the refusal to answer.
func (s *Server) listFor(lp *listParams, authorization, ua, source string, sw naming.Switches) (body listBody, a answer, ok bool) {
	if g := s.cfg.Auth; g != nil && g.Enabled() {
		ns := lp.namespaceID
		if ns == "" {
			ns = naming.DefaultNamespace
		}
		cr := credentialsOf(authorization, lp.accessToken, lp.username, lp.password)
		if _, err := g.Check(cr, ns, auth.Read); err != nil {
			return listBody{}, s.denyAnswer(err, listRoute), false
		}
	}
	q, err := lp.check()
	if err != nil {
		return listBody{}, s.badAnswer(err, listRoute), false
	}
	return s.listBodyFor(&q, lp, ua, parseAgent(ua), source, sw), answer{}, true
}

// fastPanicked does what the recovery middleware does for a panic.
func (s *Server) fastPanicked(w http.ResponseWriter, r *http.Request, p any, written bool) {
	if p == http.ErrAbortHandler {
		panic(p)
	}
	s.log.WithFields(logrus.Fields{"panic": p, "path": r.URL.Path, "stack": string(debug.Stack())}).Error("handler panicked")
	if !written {
		s.writeAnswer(w, panicAnswer())
	}
}

// mayAskConsistent reports whether a raw query could carry the consistent
// parameter as url.ParseQuery reads it: a key that is "consistent" or
// holds an escape.
func mayAskConsistent(q string) bool {
	for q != "" {
		var seg string
		seg, q, _ = strings.Cut(q, "&")
		k, _, _ := strings.Cut(seg, "=")
		if k == "consistent" || strings.Contains(k, "%") {
			return true
		}
	}
	return false
}

// scanListParams reads the parameters of instance/list from a query as
// parse and request.get do, without building the parameter list.
func scanListParams(query string) listParams {
	var lp listParams
	var seen [13]bool
	sc := newParamScanner(query)
	for {
		k, raw, ok := sc.next()
		if !ok {
			return lp
		}
		var dst *string
		i := 0
		switch k {
		case "serviceName":
			dst, i = &lp.serviceName, 0
		case "dom":
			dst, i = &lp.dom, 1
		case "groupName":
			dst, i = &lp.groupName, 2
		case "namespaceId":
			dst, i = &lp.namespaceID, 3
		case "healthyOnly":
			dst, i = &lp.healthyOnly, 4
		case "udpPort":
			dst, i = &lp.udpPort, 5
		case "clusters":
			dst, i = &lp.clusters, 6
		case "clientIP":
			dst, i = &lp.clientIP, 7
		case "app":
			dst, i = &lp.app, 8
		case "env":
			dst, i = &lp.env, 9
		case "accessToken":
			dst, i = &lp.accessToken, 10
		case "username":
			dst, i = &lp.username, 11
		case "password":
			dst, i = &lp.password, 12
		default:
			continue
		}
		if !seen[i] {
			seen[i] = true
			*dst = strings.TrimSpace(sc.value(raw))
		}
	}
}

// writeListBody answers 200 with a list body and its tail (stamp). date is
// the Date header net/http would add (see Server.date).
func writeListBody(w http.ResponseWriter, jsonType, date []string, body listBody, tail []byte) {
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Date"] = date
	if len(tail) == stampDigits+1 {
		h["Content-Length"] = body.length
	} else {
		h["Content-Length"] = []string{strconv.Itoa(len(body.head) + len(tail))}
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body.head)
	w.Write(tail)
}

// httpDate is a Date header value for one second.
type httpDate struct {
	sec   int64
	value []string // never modified once stored
}

// date returns the Date header of a response written at ms, as net/http
// would write it. Responses of the same second share one, which spares
// net/http formatting the time for each.
func (s *Server) date(ms int64) []string {
	sec := ms / 1000
	if ms < 0 && ms%1000 != 0 {
		sec--
	}
	if d := s.dates.Load(); d != nil && d.sec == sec {
		return d.value
	}
	v := []string{time.Unix(sec, 0).UTC().Format(http.TimeFormat)}
	s.dates.Store(&httpDate{sec: sec, value: v})
	return v
}

// listTail is the end of a list body for one millisecond: lastRefTime's
// digits and the closing brace.
type listTail struct {
	ms   int64
	tail []byte // never modified once stored
}

// stamp returns the tail of a list body written at ms. Lists answered in
// the same millisecond share one.
func (s *Server) stamp(ms int64) []byte {
	if t := s.tail.Load(); t != nil && t.ms == ms {
		return t.tail
	}
	b := strconv.AppendInt(make([]byte, 0, 24), ms, 10)
	b = append(b, '}')
	s.tail.Store(&listTail{ms: ms, tail: b})
	return b
}
