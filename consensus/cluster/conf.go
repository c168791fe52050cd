package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
)

// DefaultPort is the port of a member listed without one.
const DefaultPort = 8848

// Limits on a member list.
const (
	MaxMembers    = 1024
	maxLineLength = 4096
)

// ParseClusterConf reads a Nacos cluster.conf: one host[:port] per line (a
// line may also hold a comma-separated list), '#' starts a comment, blank
// lines are skipped, and a missing port is DefaultPort. It returns the
// normalized addresses, sorted and without duplicates. Any bad entry is an
// error naming its line.
func ParseClusterConf(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxLineLength)
	var out []string
	line := 0
	for sc.Scan() {
		line++
		text, _, _ := strings.Cut(sc.Text(), "#")
		for _, e := range strings.Split(text, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			a, err := NormalizeAddr(e)
			if err != nil {
				return nil, fmt.Errorf("cluster.conf line %d: %w", line, err)
			}
			out = append(out, a)
			if len(out) > MaxMembers {
				return nil, fmt.Errorf("cluster.conf lists more than %d members", MaxMembers)
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("cluster.conf line %d is longer than %d bytes", line+1, maxLineLength)
		}
		return nil, fmt.Errorf("cluster.conf: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("cluster.conf lists no members")
	}
	return sortUnique(out), nil
}

// ParseMembers normalizes a member list such as the one given by --members.
func ParseMembers(entries []string) ([]string, error) {
	var out []string
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		a, err := NormalizeAddr(e)
		if err != nil {
			return nil, fmt.Errorf("members: %w", err)
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, errors.New("members: the list is empty")
	}
	if len(out) > MaxMembers {
		return nil, fmt.Errorf("members: more than %d members", MaxMembers)
	}
	return sortUnique(out), nil
}

// NormalizeAddr turns host[:port] into the canonical "host:port" form used
// to compare members: lowercase host names, canonical IP text, IPv6 in
// brackets, DefaultPort when the port is missing.
func NormalizeAddr(s string) (string, error) {
	host, port := s, strconv.Itoa(DefaultPort)
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	} else if strings.Contains(s, ":") && net.ParseIP(s) == nil {
		return "", fmt.Errorf("bad member address %q", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("bad port in member address %q", s)
	}
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	} else if !hostname(host) {
		return "", fmt.Errorf("bad host in member address %q", s)
	}
	return net.JoinHostPort(strings.ToLower(host), strconv.Itoa(n)), nil
}

func hostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		b := h[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '.' || b == '_') {
			return false
		}
	}
	return true
}

func sortUnique(list []string) []string {
	sort.Strings(list)
	out := list[:0]
	for i, s := range list {
		if i == 0 || s != list[i-1] {
			out = append(out, s)
		}
	}
	return out
}
