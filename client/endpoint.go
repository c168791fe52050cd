package client

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// endpointRetry is the delay between attempts while no server list is known.
const endpointRetry = time.Second

// endpointLoop keeps the server list read from the address server: every
// second until one is known, then every EndpointRefresh.
func (c *Client) endpointLoop(ctx context.Context) {
	for {
		delay := c.cfg.EndpointRefresh
		addrs, err := c.fetchServerList(ctx)
		switch {
		case err != nil:
			c.log.WithError(err).WithField("endpoint", c.cfg.Endpoint).Warn("server list not read")
		case len(addrs) == 0:
			c.log.WithField("endpoint", c.cfg.Endpoint).Warn("address server returned an empty list; keeping the old one")
		case !slices.Equal(addrs, c.servers.list()):
			c.servers.set(addrs)
			c.log.WithField("servers", addrs).Info("server list from the address server")
		}
		if len(c.servers.list()) == 0 {
			delay = endpointRetry
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// fetchServerList reads GET http://{endpoint}/nacos/serverlist.
func (c *Client) fetchServerList(ctx context.Context) ([]string, error) {
	host, _ := normalizeAddr(c.cfg.Endpoint, 8080)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(c.cfg.TimeoutMs)*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.t.scheme+"://"+host+c.cfg.ContextPath+"/serverlist", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.t.http.Do(req)
	if err != nil {
		return nil, simplifyNetErr(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("address server answered HTTP %d: %s", resp.StatusCode, clip(string(b)))
	}
	return parseServerList(b)
}

// parseServerList reads one ip[:port] per line (port 8848 when left out);
// blank lines and '#' comments are skipped.
func parseServerList(b []byte) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		a, err := normalizeAddr(line, 8848)
		if err != nil {
			return nil, fmt.Errorf("server list line %q: %w", line, err)
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, sc.Err()
}
