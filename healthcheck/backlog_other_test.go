//go:build !linux

package healthcheck

import "testing"

// fullBacklog is only built on Linux; elsewhere the test that needs it skips.
func fullBacklog(t *testing.T) (string, bool) { return "", false }
