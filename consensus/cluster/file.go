package cluster

import (
	"os"
	"time"
)

// Reload re-reads File now. A bad file, or one that no longer lists this
// node, changes nothing and returns the error. Without a File it does
// nothing.
func (m *Membership) Reload() error {
	if m.cfg.File == "" {
		return nil
	}
	list, stamp, err := readConf(m.cfg.File)
	if err == nil {
		err = m.setList(list)
	}
	if err != nil {
		// Remember the bad version so the poller waits for the next change.
		m.mu.Lock()
		m.stamp = stampOf(m.cfg.File)
		m.mu.Unlock()
		return err
	}
	m.mu.Lock()
	m.stamp = stamp
	m.mu.Unlock()
	m.log.WithField("members", list).Info("member list loaded")
	m.notify()
	return nil
}

func (s fileStamp) zero() bool { return s.mod.IsZero() && s.size == 0 }

func (s fileStamp) equal(o fileStamp) bool { return s.mod.Equal(o.mod) && s.size == o.size }

func stampOf(path string) fileStamp {
	st, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{mod: st.ModTime(), size: st.Size()}
}

// pollLoop re-reads File whenever its modification time or size changes.
func (m *Membership) pollLoop() {
	defer m.wg.Done()
	t := time.NewTicker(m.cfg.FilePollInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.mu.Lock()
			old := m.stamp
			m.mu.Unlock()
			cur := stampOf(m.cfg.File)
			if cur.zero() || cur.equal(old) {
				continue
			}
			if err := m.Reload(); err != nil {
				m.log.WithError(err).Error("member list not reloaded; the previous list stays in force")
			}
		}
	}
}
