package distro

import (
	"time"

	"sextant/consensus/cluster"
)

// testConfig is DefaultConfig with intervals short enough for in-process
// clusters.
func testConfig() Config {
	return Config{
		SyncDelay:      50 * time.Millisecond,
		SyncTimeout:    500 * time.Millisecond,
		RetryInterval:  100 * time.Millisecond,
		VerifyInterval: 200 * time.Millisecond,
		LoadTimeout:    time.Second,
		ForwardTimeout: 500 * time.Millisecond,
		TombstoneTTL:   time.Minute,
		QueuedGrace:    time.Second,
		OrphanGrace:    3,
		MaxBatch:       100,

		BeatMarkInterval: 5 * time.Second,
		NoticeLinger:     20 * time.Millisecond,
	}
}

// clusterConfig is the membership layer's DefaultConfig with report and
// poll intervals short enough for in-process clusters.
func clusterConfig() cluster.Config {
	c := cluster.DefaultConfig()
	c.ReportInterval = 50 * time.Millisecond
	c.ReportTimeout = 40 * time.Millisecond
	c.FilePollInterval = 50 * time.Millisecond
	return c
}
