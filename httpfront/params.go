package httpfront

import (
	"errors"
	"math"
	"net"
	"strconv"
	"strings"

	"sextant/httpfront/auth"
	"sextant/naming"
)

// request is what a handler gets: the parameters (query and form body,
// merged, read when first asked for), the caller and, past readiness, the
// switches. Adapters fill it; nothing in it is of gin, net/http or
// fasthttp.
type request struct {
	v      params
	parsed bool   // v holds query and form
	query  string // the raw query
	form   string // the body, when it is a form
	err    error  // the body could not be read (answered 4xx)
	method string
	// uri is the request URI (a redirect repeats it); the listener
	// leaves it blank for a row's own path: it is path and query then.
	uri, path string
	// authorization is the Authorization header.
	authorization string
	ua            string     // User-Agent (or Client-Version)
	agent         clientInfo // parsed ua
	source        string     // the TCP peer's IP
	// id is the caller access control identified; nil with auth off or
	// on exempt routes.
	id *auth.Identity
	// sw are the switches as the readiness check found them (naming
	// routes only).
	sw  naming.Switches
	buf [16]param // v's first backing array
}

// reset readies a reused request for the next: it blanks what the
// adapters may leave unset (wireRequest and parse set query, method,
// path, ua, agent and source every time). buf and v are refilled by load,
// sw is set by the readiness check before anything reads it. Fields
// already blank are not written: each pointer written into a heap object
// costs a write barrier while the collector marks.
func (p *request) reset() {
	p.parsed = false
	if p.form != "" {
		p.form = ""
	}
	if p.authorization != "" {
		p.authorization = ""
	}
	if p.uri != "" {
		p.uri = ""
	}
	if p.err != nil {
		p.err = nil
	}
	if p.id != nil {
		p.id = nil
	}
}

// requestURI is the request's URI as the client sent it.
func (p *request) requestURI() string {
	switch {
	case p.uri != "":
		return p.uri
	case p.query != "":
		return p.path + "?" + p.query
	}
	return p.path
}

// load parses the query and the form body into v, once.
func (p *request) load() {
	if p.parsed {
		return
	}
	p.parsed = true
	p.v = p.buf[:0]
	p.v.add(p.query)
	if p.form != "" {
		p.v.add(p.form)
	}
}

func invalid(format string, args ...any) error {
	return naming.Errorf(naming.ErrInvalid, format, args...)
}

func (p *request) get(key string) string {
	p.load()
	return p.v.get(key)
}

// first returns the first non-blank value among keys (aliases).
func (p *request) first(keys ...string) string {
	p.load()
	for _, k := range keys {
		if s := p.v.get(k); s != "" {
			return s
		}
	}
	return ""
}

func (p *request) required(key string) (string, error) {
	s := p.get(key)
	if s == "" {
		return "", invalid("Param '%s' is required.", key)
	}
	return s, nil
}

// namespace is namespaceId, blank meaning public.
func (p *request) namespace() string { return namespaceID(p.get("namespaceId")) }

// namespaceID is the namespace a raw namespaceId names, as a service key
// built from it holds it: trimmed, blank meaning public.
func namespaceID(raw string) string { return naming.NewServiceKey(raw, "", "").Namespace }

// statusesKey reads the key of /instance/statuses, "namespace##group@@name"
// (the namespace part optional).
func (p *request) statusesKey() (naming.ServiceKey, error) {
	raw, err := p.required("key")
	if err != nil {
		return naming.ServiceKey{}, err
	}
	ns, name := "", raw
	if i := strings.Index(raw, "##"); i >= 0 {
		ns, name = raw[:i], raw[i+2:]
	}
	key := naming.NewServiceKey(ns, "", name)
	return key, key.Validate()
}

// service reads serviceName (alias dom; "group@@name" carries its group),
// groupName and namespaceId.
func (p *request) service() (naming.ServiceKey, error) {
	name := p.first("serviceName", "dom")
	if name == "" {
		return naming.ServiceKey{}, invalid("Param 'serviceName' is required.")
	}
	k := naming.NewServiceKey(p.get("namespaceId"), p.get("groupName"), name)
	return k, k.Validate()
}

// cluster reads clusterName, then cluster, defaulting to DEFAULT.
func (p *request) cluster() (string, error) {
	c := p.first("clusterName", "cluster")
	if c == "" {
		return naming.DefaultCluster, nil
	}
	return c, naming.ValidateClusterName(c)
}

func checkIP(ip string) error {
	if net.ParseIP(ip) == nil {
		return invalid("Param 'ip' is illegal, it must be an IPv4 or IPv6 address: %q", ip)
	}
	return nil
}

func (p *request) ip() (string, error) {
	ip, err := p.required("ip")
	if err != nil {
		return "", err
	}
	return ip, checkIP(ip)
}

func checkPort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0, invalid("Param 'port' is illegal, it must be an integer between 0 and 65535: %q", s)
	}
	return n, nil
}

func (p *request) port() (int, error) {
	s, err := p.required("port")
	if err != nil {
		return 0, err
	}
	return checkPort(s)
}

// target reads ip, port and the cluster of one instance.
func (p *request) target() (naming.InstanceKey, error) {
	ip, err := p.ip()
	if err != nil {
		return naming.InstanceKey{}, err
	}
	port, err := p.port()
	if err != nil {
		return naming.InstanceKey{}, err
	}
	c, err := p.cluster()
	return naming.InstanceKey{IP: ip, Port: port, Cluster: c}, err
}

func checkWeight(w float64) error {
	if math.IsNaN(w) || w < 0 || w > naming.MaxWeight {
		return invalid("instance format invalid: The weights range from 0.0 to 10000.0")
	}
	return nil
}

// weight reads weight; ok is false when absent (the caller picks the default).
func (p *request) weight() (w float64, ok bool, err error) {
	s := p.get("weight")
	if s == "" {
		return 0, false, nil
	}
	w, err = strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false, invalid("Param 'weight' is illegal, it must be a number: %q", s)
	}
	return w, true, checkWeight(w)
}

// boolean reads the first non-blank of keys as a Nacos boolean; nil when absent.
func (p *request) boolean(keys ...string) (*bool, error) {
	for _, k := range keys {
		s := p.get(k)
		if s == "" {
			continue
		}
		b, ok := naming.ParseBool(s)
		if !ok {
			return nil, invalid("Param '%s' is illegal, it must be true or false: %q", k, s)
		}
		return &b, nil
	}
	return nil, nil
}

// boolOr is boolean with a default.
func (p *request) boolOr(def bool, keys ...string) (bool, error) {
	b, err := p.boolean(keys...)
	if b == nil || err != nil {
		return def, err
	}
	return *b, nil
}

// metadata reads a metadata parameter; provided is false when absent.
func (p *request) metadata(key string) (map[string]string, bool, error) {
	return parseMetadata(p.get(key))
}

// integer reads an integer in [min, max], def when absent.
func (p *request) integer(key string, def, min, max int) (int, error) {
	s := p.get(key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, invalid("Param '%s' is illegal, it must be an integer between %d and %d: %q", key, min, max, s)
	}
	return n, nil
}

// page reads the required pageNo and pageSize.
func (p *request) page() (no, size int, err error) {
	for _, k := range []string{"pageNo", "pageSize"} {
		if _, err := p.required(k); err != nil {
			return 0, 0, err
		}
	}
	if no, err = p.integer("pageNo", 1, 1, math.MaxInt32); err != nil {
		return 0, 0, err
	}
	size, err = p.pageSize(10, math.MaxInt32)
	return no, size, err
}

// pageSize reads pageSize (def when absent), clamping a size over max to
// max rather than refusing it: Spring Cloud Alibaba and Dubbo ask for
// every service with pageSize=2147483647. Sizes below 1 and non-numbers
// are refused.
func (p *request) pageSize(def, max int) (int, error) {
	s := p.get("pageSize")
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	var ne *strconv.NumError
	if err != nil && errors.As(err, &ne) && ne.Err == strconv.ErrRange && !strings.HasPrefix(strings.TrimSpace(s), "-") {
		return max, nil
	}
	if err != nil || n < 1 {
		return 0, invalid("Param 'pageSize' is illegal, it must be a positive integer: %q", s)
	}
	return int(min(n, int64(max))), nil
}

// pageOf returns the bounds of page no of size over n items.
func pageOf(n, no, size int) (from, to int) {
	from = (no - 1) * size
	if from > n || from < 0 {
		return n, n
	}
	to = from + size
	if to > n {
		to = n
	}
	return from, to
}

// clusterList splits a clusters parameter ("a,b"); nil means all clusters.
func clusterList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// set makes key's value v, in place of any value sent.
func (p *request) set(key, v string) {
	p.load()
	out := p.v[:0]
	for _, x := range p.v {
		if x.k != key {
			out = append(out, x)
		}
	}
	p.v = append(out, param{key, v})
}

// alias gives key the value of from when key is blank (a parameter that
// has another name in another version of the API).
func (p *request) alias(from, key string) {
	if p.get(key) == "" {
		if v := p.get(from); v != "" {
			p.set(key, v)
		}
	}
}

// orDefault gives key the value def when it is blank.
func (p *request) orDefault(key, def string) {
	if p.get(key) == "" {
		p.set(key, def)
	}
}
