package auth

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"

	"sextant/naming"
)

// Config configures the guard.
type Config struct {
	// Enabled turns checks on. Off, every request passes.
	Enabled bool
	// TokenSecret signs tokens (at least 32 bytes). Empty: on a lone node,
	// read from or generated into DataDir/SecretFileName; a clustered node
	// with Enabled must have it set.
	TokenSecret string
	// TokenTTL is how long a token is valid (Nacos: 18000 s).
	TokenTTL time.Duration
	// AdminUser is the first administrator, created once when auth is
	// first enabled (Nacos: "nacos").
	AdminUser string
	// AdminPassword is its password. Empty: one is generated, logged once
	// and written to DataDir/AdminPasswordFileName with mode 0600.
	AdminPassword string
	// DataDir keeps the generated secret and password.
	DataDir string
	// Clustered says the node is a member of a cluster.
	Clustered bool
	// BcryptCost is the cost of new password hashes.
	BcryptCost int
	// MaxConcurrentHashes bounds the bcrypt comparisons that run at once.
	MaxConcurrentHashes int
	// HashWait bounds how long a password check waits for its turn.
	HashWait time.Duration
	// CacheSize bounds the remembered username/password outcomes.
	CacheSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// File names in the data directory.
const (
	SecretFileName        = "auth-token-secret"
	AdminPasswordFileName = "auth-admin-password"
)

// MinSecretLen is the shortest token secret accepted.
const MinSecretLen = 32

// DefaultConfig has auth off, Nacos's token lifetime and admin name.
func DefaultConfig() Config {
	return Config{
		TokenTTL:            18000 * time.Second,
		AdminUser:           "nacos",
		BcryptCost:          bcrypt.DefaultCost,
		MaxConcurrentHashes: 4,
		HashWait:            2 * time.Second,
		CacheSize:           4096,
	}
}

// Validate checks the settings.
func (c Config) Validate() error {
	var errs []error
	if c.TokenSecret != "" && len(c.TokenSecret) < MinSecretLen {
		errs = append(errs, fmt.Errorf("auth token secret must be at least %d bytes, got %d", MinSecretLen, len(c.TokenSecret)))
	}
	if c.Enabled && c.Clustered && c.TokenSecret == "" {
		errs = append(errs, errors.New("auth-token-secret is required when auth is enabled on a cluster member: every member signs and checks tokens with it, so set the same value (at least 32 bytes) on each"))
	}
	if c.Enabled && c.TokenSecret == "" && c.DataDir == "" {
		errs = append(errs, errors.New("auth needs a token secret or a data dir to keep a generated one in"))
	}
	if err := naming.ValidateName("admin user", c.AdminUser); err != nil {
		errs = append(errs, err)
	}
	if c.TokenTTL < time.Second {
		errs = append(errs, fmt.Errorf("auth token ttl must be at least 1s, got %s", c.TokenTTL))
	}
	if c.AdminPassword != "" && (len(c.AdminPassword) < 8 || len(c.AdminPassword) > 72) {
		errs = append(errs, errors.New("auth admin password must hold 8 to 72 bytes"))
	}
	if c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost {
		errs = append(errs, fmt.Errorf("bcrypt cost must be between %d and %d", bcrypt.MinCost, bcrypt.MaxCost))
	}
	if c.MaxConcurrentHashes < 1 || c.HashWait <= 0 || c.CacheSize < 1 {
		errs = append(errs, errors.New("auth: concurrent hashes, hash wait and cache size must be positive"))
	}
	return errors.Join(errs...)
}
