package auth

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	"sextant/naming"
)

// Start creates the first administrator in the background when auth is on
// and the access-control data was never initialised. It retries (a
// cluster may have no leader yet) until it succeeds, another node did it,
// or Close. It returns at once.
func (g *Guard) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	g.cancel = cancel
	g.done = make(chan struct{})
	if !g.cfg.Enabled {
		close(g.done)
		return nil
	}
	go func() {
		defer close(g.done)
		g.bootstrap(ctx)
	}()
	return nil
}

// Close stops the bootstrap; it is idempotent.
func (g *Guard) Close() error {
	g.once.Do(func() {
		if g.cancel != nil {
			g.cancel()
			<-g.done
		}
	})
	return nil
}

func (g *Guard) bootstrap(ctx context.Context) {
	password, generated, passwordFile := g.cfg.AdminPassword, false, ""
	backoff := 200 * time.Millisecond
	for ctx.Err() == nil {
		if g.src.Auth().Initialized {
			return
		}
		if password == "" {
			p, err := randomString(18)
			if err != nil {
				g.log.WithError(err).Error("cannot generate the admin password")
				return
			}
			password, generated = p, true
			// The file is written before the administrator exists, so
			// that whoever sees the administrator can read its password.
			passwordFile = g.writePasswordFile(password)
		}
		hash, err := g.HashPassword(password)
		if err == nil {
			actx, cancel := context.WithTimeout(ctx, 15*time.Second)
			err = g.w.Apply(actx, naming.Op{Kind: naming.OpInitAuth, User: &naming.User{Name: g.cfg.AdminUser, Hash: hash}})
			cancel()
		}
		switch {
		case err == nil:
			g.announce(password, generated, passwordFile)
			return
		case errors.Is(err, naming.ErrConflict):
			// Another node created the administrator, or an earlier
			// attempt of ours whose answer was lost did. The file stays
			// only if it holds the password that works.
			if passwordFile != "" && !g.isAdminPassword(password) {
				_ = os.Remove(passwordFile)
			}
			return
		}
		g.log.WithError(err).Debug("initial administrator not created yet; retrying")
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// announce tells the operator about the administrator just created. A
// generated password is logged this once and written to a 0600 file.
func (g *Guard) announce(password string, generated bool, file string) {
	f := logrus.Fields{"user": g.cfg.AdminUser}
	if !generated {
		g.log.WithFields(f).Info("created the initial administrator with the configured password")
		return
	}
	if file != "" {
		f["file"] = file
	}
	f["password"] = password
	g.log.WithFields(f).Warn("created the initial administrator with a generated password (shown this once; change it with PUT /nacos/v1/auth/users)")
}

// writePasswordFile writes a generated password to a 0600 file in the
// data dir and returns its path, or "" when there is no data dir or the
// write failed (logged).
func (g *Guard) writePasswordFile(password string) string {
	if g.cfg.DataDir == "" {
		return ""
	}
	path := filepath.Join(g.cfg.DataDir, AdminPasswordFileName)
	_ = os.MkdirAll(g.cfg.DataDir, 0o750)
	err := writeExclusive(path, password+"\n")
	if errors.Is(err, fs.ErrExist) {
		err = os.Remove(path)
		if err == nil {
			err = writeExclusive(path, password+"\n")
		}
	}
	if err != nil {
		g.log.WithError(err).Warn("could not write the generated admin password to the data dir")
		return ""
	}
	return path
}

// isAdminPassword reports whether password is the administrator's now.
func (g *Guard) isAdminPassword(password string) bool {
	u, ok := g.src.Auth().FindUser(g.cfg.AdminUser)
	return ok && bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte(password)) == nil
}
