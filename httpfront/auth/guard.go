package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	"sextant/naming"
)

// ErrDenied is the kind of every refusal: no credentials, bad ones, or too
// few rights. Fronts answer it with 403.
var ErrDenied = errors.New("access denied")

func denied(msg string) error { return &naming.Error{Kind: ErrDenied, Msg: msg} }

// Credentials are what a request carries; the first non-empty of Bearer,
// AccessToken and Username (with Password) is used, in that order.
type Credentials struct {
	Bearer      string
	AccessToken string
	Username    string
	Password    string
	// Source is the caller's address, which password checks are
	// throttled by.
	Source string
}

// Action is what a request wants to do.
type Action uint8

// Actions, from least to most demanding.
const (
	// Authenticated needs any known user.
	Authenticated Action = iota
	// Read needs "r" on the namespace.
	Read
	// Write needs "w" on the namespace.
	Write
	// Admin needs naming.AdminRole.
	Admin
)

// Identity is who a request was found to come from.
type Identity struct {
	Username string
	Admin    bool
}

// Session is the result of a login.
type Session struct {
	Token       string
	TTL         time.Duration
	GlobalAdmin bool
	Username    string
}

// Guard checks credentials and rights, and logs users in.
type Guard struct {
	cfg    Config
	src    naming.Reader
	w      naming.Writer
	log    *logrus.Entry
	now    func() time.Time
	secret []byte
	sem    chan struct{}
	// dummy is compared against when a user is unknown, so that an unknown
	// name takes as long as a wrong password.
	dummy []byte

	cmu      sync.Mutex
	cache    *passwordCache
	throttle *throttle

	once   sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

// New builds a guard. It reads or creates the token secret (see Config), so
// it fails when the data directory cannot be used.
func New(cfg Config, src naming.Reader, w naming.Writer, log *logrus.Entry) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil || w == nil {
		return nil, errors.New("auth: a source and a writer are required")
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	g := &Guard{cfg: cfg, src: src, w: w, log: log.WithField("component", "auth"), now: cfg.Now,
		sem: make(chan struct{}, cfg.MaxConcurrentHashes), cache: newPasswordCache(cfg.CacheSize), throttle: newThrottle()}
	if g.now == nil {
		g.now = time.Now
	}
	switch {
	case cfg.TokenSecret != "":
		g.secret = []byte(cfg.TokenSecret)
	case cfg.Enabled:
		s, created, err := loadOrCreateSecret(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		if created {
			g.log.WithField("file", SecretFileName).Info("generated the token secret and stored it in the data dir (mode 0600)")
		}
		g.secret = []byte(s)
	default:
		// Auth is off: tokens from login are still signed, with a secret
		// that lives as long as the process.
		s, err := randomString(48)
		if err != nil {
			return nil, err
		}
		g.secret = []byte(s)
	}
	d, err := bcrypt.GenerateFromPassword([]byte("sextant-dummy-password"), cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	g.dummy = d
	return g, nil
}

// Enabled reports whether checks are on.
func (g *Guard) Enabled() bool { return g.cfg.Enabled }

// State returns the current access-control data.
func (g *Guard) State() *naming.AuthState { return g.src.Auth() }

// HashPassword hashes a new password for an op. Passwords hold 1 to 72
// bytes (bcrypt's limit).
func (g *Guard) HashPassword(password string) (string, error) {
	if password == "" || len(password) > 72 {
		return "", naming.Errorf(naming.ErrInvalid, "Param 'password' must hold 1 to 72 bytes")
	}
	if err := g.acquire(); err != nil {
		return "", err
	}
	defer g.release()
	h, err := bcrypt.GenerateFromPassword([]byte(password), g.cfg.BcryptCost)
	if err != nil {
		return "", naming.Errorf(naming.ErrInvalid, "password cannot be hashed: %v", err)
	}
	return string(h), nil
}

// Login checks a password sent from source and returns a token.
func (g *Guard) Login(username, password, source string) (Session, error) {
	if username == "" || password == "" {
		return Session{}, denied("user not found!")
	}
	st := g.src.Auth()
	u, ok, err := g.checkPassword(st, username, password, source)
	if err != nil {
		return Session{}, err
	}
	if !ok {
		return Session{}, denied("unknown user!")
	}
	exp := g.now().Add(g.cfg.TokenTTL)
	tok := signToken(g.secret, claims{Sub: u.Name, Exp: exp.Unix(), Pv: hashDigest(u.Hash)})
	return Session{Token: tok, TTL: g.cfg.TokenTTL, GlobalAdmin: st.IsAdmin(u.Name), Username: u.Name}, nil
}

// Identify returns who the credentials name.
func (g *Guard) Identify(cred Credentials) (Identity, error) {
	st := g.src.Auth()
	tok := cred.Bearer
	if tok == "" {
		tok = cred.AccessToken
	}
	switch {
	case tok != "":
		c, err := parseToken(g.secret, tok, g.now())
		if errors.Is(err, errTokenExpired) {
			return Identity{}, denied("token expired!")
		}
		if err != nil {
			return Identity{}, denied("token invalid!")
		}
		u, ok := st.FindUser(c.Sub)
		if !ok {
			return Identity{}, denied("user not found!")
		}
		if hashDigest(u.Hash) != c.Pv {
			return Identity{}, denied("token invalid!")
		}
		return Identity{Username: u.Name, Admin: st.IsAdmin(u.Name)}, nil
	case cred.Username != "":
		u, ok, err := g.checkPassword(st, cred.Username, cred.Password, cred.Source)
		if err != nil {
			return Identity{}, err
		}
		if !ok {
			return Identity{}, denied("unknown user!")
		}
		return Identity{Username: u.Name, Admin: st.IsAdmin(u.Name)}, nil
	}
	return Identity{}, denied("user not found!")
}

// Check identifies the caller and checks that it may do act on namespace
// ns. With auth off it lets everything through.
func (g *Guard) Check(cred Credentials, ns string, act Action) (Identity, error) {
	if !g.cfg.Enabled {
		return Identity{Admin: true}, nil
	}
	id, err := g.Identify(cred)
	if err != nil {
		return id, err
	}
	if !g.Allowed(id, ns, act) {
		return id, denied("authorization failed!")
	}
	return id, nil
}

// Allowed reports whether id may do act on namespace ns.
func (g *Guard) Allowed(id Identity, ns string, act Action) bool {
	if id.Admin {
		return true
	}
	switch act {
	case Authenticated:
		return id.Username != ""
	case Admin:
		return false
	}
	if ns == "" {
		ns = naming.DefaultNamespace
	}
	want := byte('r')
	if act == Write {
		want = 'w'
	}
	st := g.src.Auth()
	for _, role := range st.RolesOf(id.Username) {
		for _, p := range st.Permissions {
			if p.Role != role {
				continue
			}
			pns, err := naming.PermissionNamespace(p.Resource)
			if err != nil || (pns != "*" && pns != ns) {
				continue
			}
			for i := 0; i < len(p.Action); i++ {
				if p.Action[i] == want {
					return true
				}
			}
		}
	}
	return false
}

// checkPassword compares a password sent from source with the user's
// hash: through the cache of good passwords, then, throttled per source
// and user (throttle.go), through the bounded set of bcrypt workers. A
// failure is logged.
func (g *Guard) checkPassword(st *naming.AuthState, name, password, source string) (naming.User, bool, error) {
	u, found := st.FindUser(name)
	key := keyOf(name, password)
	if found {
		g.cmu.Lock()
		hit := g.cache.matched(key, u.Hash)
		g.cmu.Unlock()
		if hit {
			return u, true, nil
		}
	}
	now := g.now()
	if err := g.throttle.begin(source, name, now); err != nil {
		return u, false, denied(err.Error())
	}
	if err := g.acquire(); err != nil {
		g.throttle.cancel(source) // not a guess: no count
		return u, false, err
	}
	var ok bool
	if found {
		ok = bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte(password)) == nil
	} else {
		_ = bcrypt.CompareHashAndPassword(g.dummy, []byte(password))
	}
	g.release()
	ok = found && ok
	if fails := g.throttle.end(source, name, ok, g.now()); !ok {
		g.log.WithFields(logrus.Fields{"user": name, "source": source, "failures": fails}).Warn("failed password check")
	}
	if ok {
		g.cmu.Lock()
		g.cache.add(key, u.Hash)
		g.cmu.Unlock()
	}
	return u, ok, nil
}

// keyOf is the cache key of a username/password pair.
func keyOf(name, password string) [32]byte { return sha256.Sum256([]byte(name + "\x00" + password)) }

func (g *Guard) acquire() error {
	select {
	case g.sem <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(g.cfg.HashWait)
	defer t.Stop()
	select {
	case g.sem <- struct{}{}:
		return nil
	case <-t.C:
		return naming.Errorf(naming.ErrUnavailable, "too many password checks at once, retry later")
	}
}

func (g *Guard) release() { <-g.sem }
