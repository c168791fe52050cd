package naming

import (
	"strconv"
	"time"
)

// Preserved metadata keys that override an ephemeral instance's timings, in milliseconds.
const (
	MetaBeatInterval  = "preserved.heart.beat.interval"
	MetaBeatTimeout   = "preserved.heart.beat.timeout"
	MetaDeleteTimeout = "preserved.ip.delete.timeout"
)

// Default beat timings of ephemeral instances.
const (
	DefaultBeatInterval  = 5 * time.Second
	DefaultBeatTimeout   = 15 * time.Second
	DefaultDeleteTimeout = 30 * time.Second
)

// Timings are the beat interval, unhealthy timeout and delete timeout of one
// ephemeral instance.
type Timings struct {
	Interval, Timeout, Delete time.Duration
}

// TimingsOf reads an instance's timings from its metadata, falling back to
// the defaults for keys that are absent or not a positive number.
func TimingsOf(md map[string]string) Timings {
	return Timings{
		Interval: metaMillis(md, MetaBeatInterval, DefaultBeatInterval),
		Timeout:  metaMillis(md, MetaBeatTimeout, DefaultBeatTimeout),
		Delete:   metaMillis(md, MetaDeleteTimeout, DefaultDeleteTimeout),
	}
}

func metaMillis(md map[string]string, key string, def time.Duration) time.Duration {
	v, ok := md[key]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > int64(24*time.Hour/time.Millisecond) {
		return def
	}
	return time.Duration(n) * time.Millisecond
}

// BeatVerdict is what a beat check decides for one ephemeral instance.
type BeatVerdict int

const (
	// BeatOK: nothing to do.
	BeatOK BeatVerdict = iota
	// BeatUnhealthy: the instance is healthy but its beat timeout has passed.
	BeatUnhealthy
	// BeatExpired: the delete timeout has passed; the instance must go.
	BeatExpired
)

// CheckBeat decides, at time now (Unix ms), what becomes of an ephemeral
// instance whose last beat was at last (Unix ms). It is a pure function so
// the timing rules can be tested without a clock.
func CheckBeat(t Timings, healthy bool, last, now int64) BeatVerdict {
	idle := time.Duration(now-last) * time.Millisecond
	switch {
	case idle > t.Delete:
		return BeatExpired
	case healthy && idle > t.Timeout:
		return BeatUnhealthy
	}
	return BeatOK
}
