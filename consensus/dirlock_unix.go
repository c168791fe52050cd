//go:build unix

package consensus

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f, so that two processes
// never write the same data directory. The lock goes with the file's close.
func lockFile(f *os.File) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("data directory is in use by another process (%s): %w", f.Name(), err)
	}
	return nil
}
