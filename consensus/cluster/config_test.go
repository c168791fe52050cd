package cluster

import "time"

// testConfig is DefaultConfig with intervals short enough for in-process
// clusters.
func testConfig() Config {
	c := DefaultConfig()
	c.ReportInterval = 50 * time.Millisecond
	c.ReportTimeout = 40 * time.Millisecond
	c.FilePollInterval = 50 * time.Millisecond
	return c
}
