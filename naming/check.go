package naming

import (
	"strconv"
	"strings"
	"time"
)

// Default settings of server-side probes of persistent instances. A
// cluster's CheckSettings, the service's metadata and the node's
// configuration can each change them.
const (
	DefaultCheckInterval      = 20 * time.Second
	DefaultTCPCheckTimeout    = 500 * time.Millisecond
	DefaultHTTPCheckTimeout   = 2 * time.Second
	DefaultUnhealthyThreshold = 1
	DefaultHealthyThreshold   = 1
)

// Service metadata keys that set the probe settings of every cluster of a
// service, unless the cluster sets its own (CheckSettings). Durations are
// milliseconds or Go durations (ParseCheckDuration); thresholds are counts.
const (
	MetaCheckInterval           = "sextant.check.interval"
	MetaCheckTimeout            = "sextant.check.timeout"
	MetaCheckUnhealthyThreshold = "sextant.check.unhealthy-threshold"
	MetaCheckHealthyThreshold   = "sextant.check.healthy-threshold"
)

// Limits on probe settings.
const (
	MinCheckInterval = 100 * time.Millisecond
	MaxCheckInterval = time.Hour
	MinCheckTimeout  = 10 * time.Millisecond
	MaxCheckTimeout  = time.Minute
	MaxCheckStreak   = 100
)

// CheckSettings are the timing and thresholds of server-side probes of one
// cluster. A zero field inherits the next layer's value.
type CheckSettings struct {
	// IntervalMillis is the time between two probes of one instance.
	IntervalMillis int64 `json:"intervalMillis,omitempty"`
	// TimeoutMillis bounds one probe (TCP connect, or the whole HTTP exchange).
	TimeoutMillis int64 `json:"timeoutMillis,omitempty"`
	// UnhealthyThreshold is how many consecutive failed probes mark a
	// healthy instance unhealthy.
	UnhealthyThreshold int `json:"unhealthyThreshold,omitempty"`
	// HealthyThreshold is how many consecutive good probes mark an
	// unhealthy instance healthy.
	HealthyThreshold int `json:"healthyThreshold,omitempty"`
}

// Interval returns IntervalMillis as a duration (0 when unset).
func (c CheckSettings) Interval() time.Duration {
	return time.Duration(c.IntervalMillis) * time.Millisecond
}

// Timeout returns TimeoutMillis as a duration (0 when unset).
func (c CheckSettings) Timeout() time.Duration {
	return time.Duration(c.TimeoutMillis) * time.Millisecond
}

// Validate checks that every set field is within its limits.
func (c CheckSettings) Validate() error {
	if err := ValidateCheckInterval(c.Interval()); c.IntervalMillis != 0 && err != nil {
		return err
	}
	if err := ValidateCheckTimeout(c.Timeout()); c.TimeoutMillis != 0 && err != nil {
		return err
	}
	if err := ValidateCheckStreak("unhealthyThreshold", c.UnhealthyThreshold); c.UnhealthyThreshold != 0 && err != nil {
		return err
	}
	if err := ValidateCheckStreak("healthyThreshold", c.HealthyThreshold); c.HealthyThreshold != 0 && err != nil {
		return err
	}
	return nil
}

// ValidateCheckInterval checks a probe interval.
func ValidateCheckInterval(d time.Duration) error {
	if d < MinCheckInterval || d > MaxCheckInterval {
		return Errorf(ErrInvalid, "Param 'checkInterval' is illegal: %v is outside [%v, %v]", d, MinCheckInterval, MaxCheckInterval)
	}
	return nil
}

// ValidateCheckTimeout checks a probe timeout.
func ValidateCheckTimeout(d time.Duration) error {
	if d < MinCheckTimeout || d > MaxCheckTimeout {
		return Errorf(ErrInvalid, "Param 'checkTimeout' is illegal: %v is outside [%v, %v]", d, MinCheckTimeout, MaxCheckTimeout)
	}
	return nil
}

// ValidateCheckStreak checks a threshold named name.
func ValidateCheckStreak(name string, n int) error {
	if n < 1 || n > MaxCheckStreak {
		return Errorf(ErrInvalid, "Param '%s' is illegal: %d is outside [1, %d]", name, n, MaxCheckStreak)
	}
	return nil
}

// ParseCheckDuration reads a probe interval or timeout: a whole number of
// milliseconds ("5000", as Nacos's preserved.* keys) or a Go duration ("5s").
func ParseCheckDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > int64(MaxCheckInterval/time.Millisecond) {
			return 0, Errorf(ErrInvalid, "duration %q is out of range", s)
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, Errorf(ErrInvalid, "%q is not a duration: give milliseconds (5000) or a Go duration (5s)", s)
	}
	return d, nil
}

// StatusCodes is a set of HTTP status codes an HTTP check accepts.
type StatusCodes []codeRange

type codeRange struct{ lo, hi int }

// Match reports whether code is in the set.
func (s StatusCodes) Match(code int) bool {
	for _, r := range s {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// DefaultExpectedCodes is what an HTTP check accepts when its
// expectedResponseCode is blank: 200 only, as Nacos.
const DefaultExpectedCodes = "200"

// ParseStatusCodes reads an expectedResponseCode: a comma-separated list of
// codes ("200"), classes ("2xx") and ranges ("200-299"). Blank means
// DefaultExpectedCodes.
func ParseStatusCodes(s string) (StatusCodes, error) {
	if strings.TrimSpace(s) == "" {
		s = DefaultExpectedCodes
	}
	var out StatusCodes
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		r, ok := parseCodeRange(item)
		if !ok {
			return nil, Errorf(ErrInvalid, "expectedResponseCode %q is illegal: give codes (200), classes (2xx) or ranges (200-299), separated by commas", s)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseCodeRange(item string) (codeRange, bool) {
	if len(item) == 3 && (strings.HasSuffix(item, "xx") || strings.HasSuffix(item, "XX")) {
		c := item[0]
		if c < '1' || c > '5' {
			return codeRange{}, false
		}
		lo := int(c-'0') * 100
		return codeRange{lo, lo + 99}, true
	}
	lo, hi, isRange := strings.Cut(item, "-")
	a, err := strconv.Atoi(strings.TrimSpace(lo))
	if err != nil || a < 100 || a > 599 {
		return codeRange{}, false
	}
	if !isRange {
		return codeRange{a, a}, true
	}
	b, err := strconv.Atoi(strings.TrimSpace(hi))
	if err != nil || b < a || b > 599 {
		return codeRange{}, false
	}
	return codeRange{a, b}, true
}

// CheckHeader is one extra header of an HTTP check.
type CheckHeader struct{ Name, Value string }

// ReservedCheckHeader reports whether a header name is one probes never
// send: a probe must not pose as another host or carry credentials.
func ReservedCheckHeader(name string) bool {
	for _, r := range []string{"Host", "Authorization", "Proxy-Authorization"} {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}

// CheckNoReservedHeaders refuses headers of a new HTTP check that probes
// never send.
func CheckNoReservedHeaders(s string) error {
	hs, err := ParseCheckHeaders(s)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if ReservedCheckHeader(h.Name) {
			return Errorf(ErrInvalid, "health check header %q is not allowed: probes never send Host, Authorization or Proxy-Authorization", h.Name)
		}
	}
	return nil
}

// ParseCheckHeaders reads the headers of an HTTP check in Nacos's form
// "k1:v1|k2:v2". Blank items are skipped; an item without ':' or with a
// name that is not an HTTP token is an error. Reserved names
// (ReservedCheckHeader) are read, so that stored checks stay valid, but
// refused on new ones (CheckNoReservedHeaders) and never sent.
func ParseCheckHeaders(s string) ([]CheckHeader, error) {
	var out []CheckHeader
	for _, item := range strings.Split(s, "|") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		k, v, ok := strings.Cut(item, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !isToken(k) || !printable(v) {
			return nil, Errorf(ErrInvalid, "health check header %q is illegal: headers are \"name:value\" items separated by '|'", item)
		}
		out = append(out, CheckHeader{Name: k, Value: v})
	}
	return out, nil
}

// isToken reports whether s is an HTTP header name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// validateChecker checks the HTTP fields of a health checker.
func validateChecker(hc HealthChecker) error {
	if hc.Type != "HTTP" {
		return nil
	}
	if !printable(hc.Path) || strings.ContainsAny(hc.Path, " ") || len(hc.Path) > 2048 {
		return Errorf(ErrInvalid, "health check path %q is illegal", hc.Path)
	}
	if _, err := ParseCheckHeaders(hc.Headers); err != nil {
		return err
	}
	_, err := ParseStatusCodes(hc.ExpectedCodes)
	return err
}

// ProbeReport is one server-side probe of an instance as the node that ran
// it saw it. Probes whose result leaves the instance's health as it was are
// not replicated; the probing node keeps its last report.
type ProbeReport struct {
	// Time of the probe's end, Unix milliseconds.
	Time int64 `json:"time"`
	// OK is true when the probe passed.
	OK bool `json:"ok"`
	// Reason describes the outcome, e.g. "connection refused" or "HTTP 500".
	Reason string `json:"reason"`
}
