package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// The operator commands (members, services, instances, register,
// deregister) talk to a running node over its HTTP API, as any Nacos client
// would. They exit 0 on success, 1 when the node refused the request or
// none could be reached, and 2 on a usage error.

// Exit codes of the operator commands.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// Environment variables the operator commands read for their defaults.
const (
	envServer   = "SEXTANT_SERVER"
	envUsername = "SEXTANT_USERNAME"
	envPassword = "SEXTANT_PASSWORD"
)

// maxCLIBody bounds a response the operator commands read.
const maxCLIBody = 64 << 20

// cliCommand is one operator command: its flag set and the common
// connection flags.
type cliCommand struct {
	name     string
	fs       *flag.FlagSet
	stdout   io.Writer
	stderr   io.Writer
	servers  string
	user     string
	password string
	timeout  time.Duration
	token    string
}

func newCLICommand(name, synopsis string, stdout, stderr io.Writer) *cliCommand {
	c := &cliCommand{name: name, fs: flag.NewFlagSet(name, flag.ContinueOnError), stdout: stdout, stderr: stderr}
	c.fs.SetOutput(stderr)
	server := os.Getenv(envServer)
	if server == "" {
		server = "127.0.0.1:8848"
	}
	c.fs.StringVar(&c.servers, "server", server, "node HTTP address host:port, or http(s)://host:port; a comma-separated list is tried in turn (env "+envServer+")")
	c.fs.StringVar(&c.user, "username", os.Getenv(envUsername), "log in as this user when the node has auth on (env "+envUsername+")")
	c.fs.StringVar(&c.password, "password", os.Getenv(envPassword), "password of --username (env "+envPassword+")")
	c.fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "time allowed to each node for each request")
	c.fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: sextant %s [flags]\n\n%s\n\nflags:\n", name, synopsis)
		c.fs.PrintDefaults()
	}
	return c
}

// parse reads the arguments; it returns the exit code to end with when
// the command must not go on.
func (c *cliCommand) parse(args []string) (int, bool) {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if c.fs.NArg() > 0 {
		return c.usageError("unexpected arguments: %s", strings.Join(c.fs.Args(), " "))
	}
	if c.timeout <= 0 {
		return c.usageError("--timeout must be positive")
	}
	if len(c.baseURLs()) == 0 {
		return c.usageError("--server is empty")
	}
	return 0, true
}

func (c *cliCommand) usageError(format string, args ...any) (int, bool) {
	fmt.Fprintf(c.stderr, "sextant %s: %s\n", c.name, fmt.Sprintf(format, args...))
	fmt.Fprintf(c.stderr, "run \"sextant %s -h\" for its flags\n", c.name)
	return exitUsage, false
}

// fail reports err and returns exitFail.
func (c *cliCommand) fail(err error) int {
	fmt.Fprintf(c.stderr, "sextant %s: %v\n", c.name, err)
	return exitFail
}

func (c *cliCommand) baseURLs() []string {
	var out []string
	for _, s := range splitList(c.servers) {
		if !strings.Contains(s, "://") {
			s = "http://" + s
		}
		out = append(out, strings.TrimSuffix(s, "/"))
	}
	return out
}

// apiError is a response other than 2xx.
type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string {
	body := strings.TrimSpace(e.body)
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	if body == "" {
		return fmt.Sprintf("HTTP %d", e.status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.status, body)
}

// call sends one request to the first node that answers. GET and DELETE
// carry the parameters in the query, other methods in a form body. A node
// that cannot be reached, or answers 503, is skipped for the next one.
func (c *cliCommand) call(method, path string, params url.Values) ([]byte, error) {
	if c.user != "" && c.token == "" {
		if err := c.login(); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
	}
	if c.token != "" {
		params = cloneValues(params)
		params.Set("accessToken", c.token)
	}
	var last error
	for _, base := range c.baseURLs() {
		b, err := c.send(base, method, path, params)
		var ae *apiError
		if err == nil || errors.As(err, &ae) && ae.status != http.StatusServiceUnavailable {
			return b, err
		}
		last = err
	}
	return nil, last
}

func (c *cliCommand) send(base, method, path string, params url.Values) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	u := base + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if len(params) > 0 {
			u += "?" + params.Encode()
		}
	} else {
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", "sextant-cli:"+version)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("%s: no answer within %v", base, c.timeout)
		}
		return nil, fmt.Errorf("%s: %w", base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxCLIBody))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the answer: %w", base, err)
	}
	if resp.StatusCode/100 != 2 {
		return b, &apiError{status: resp.StatusCode, body: string(b)}
	}
	return b, nil
}

// login exchanges --username and --password for an access token.
func (c *cliCommand) login() error {
	user := c.user
	c.user = "" // call must not log in again
	defer func() { c.user = user }()
	b, err := c.call(http.MethodPost, "/nacos/v1/auth/users/login", url.Values{"username": {user}, "password": {c.password}})
	if err != nil {
		return err
	}
	var v struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.AccessToken == "" {
		return fmt.Errorf("no access token in the answer %q", clipText(string(b)))
	}
	c.token = v.AccessToken
	return nil
}

// getJSON sends a GET and decodes the JSON answer into v.
func (c *cliCommand) getJSON(path string, params url.Values, v any) error {
	b, err := c.call(http.MethodGet, path, params)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: unexpected answer %q: %v", path, clipText(string(b)), err)
	}
	return nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func clipText(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// table writes aligned columns.
type table struct{ w *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{w: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			c = "-"
		}
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
	}
	fmt.Fprintln(t.w, strings.Join(cells, "\t"))
}

func (t *table) flush() { t.w.Flush() }

// yesNo renders a boolean column.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
