package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// loadOrCreateSecret reads the token secret kept in dir, creating it (mode
// 0600, exclusively, so two starts never make two) on first use.
func loadOrCreateSecret(dir string) (secret string, created bool, err error) {
	path := filepath.Join(dir, SecretFileName)
	if s, err := readSecretFile(path); err == nil {
		return s, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", false, err
	}
	s, err := randomString(48)
	if err != nil {
		return "", false, err
	}
	if err := writeExclusive(path, s+"\n"); err != nil {
		if errors.Is(err, fs.ErrExist) {
			s, err := readSecretFile(path)
			return s, false, err
		}
		return "", false, err
	}
	return s, true, nil
}

func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if len(s) < MinSecretLen {
		return "", fmt.Errorf("%s: the token secret must hold at least %d bytes", path, MinSecretLen)
	}
	return s, nil
}

// writeExclusive creates path with mode 0600 and content, failing with
// fs.ErrExist when it exists; the content is synced before it returns.
func writeExclusive(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}
