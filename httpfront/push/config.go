package push

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Push targets.
const (
	// TargetClientIP pushes to the clientIP request parameter when the
	// request comes from a TrustedProxies network, to the source address
	// otherwise (Nacos always trusts clientIP, which makes the node a
	// reflector: anyone could have pushes sent to any address).
	TargetClientIP = "clientIP"
	// TargetSource always pushes to the HTTP request's source address.
	TargetSource = "source"
)

// Config configures the UDP pusher.
type Config struct {
	// Enabled turns pushes on; when off, Subscribe fails and clients poll.
	Enabled bool
	// Target is TargetClientIP (default) or TargetSource.
	Target string
	// Listen is the local UDP address of the push socket (acks arrive there).
	Listen string
	// MergeDelay is the shortest time between two pushes of one service:
	// a change after a quiet spell goes out at once, later changes within
	// MergeDelay of a push are merged into the next one.
	MergeDelay time.Duration
	// AckTimeout is how long to wait for an ack before sending again.
	AckTimeout time.Duration
	// Resends is how many times an unacked push is sent again.
	Resends int
	// SubscriberTTL drops subscribers that have not polled for this long.
	SubscriberTTL time.Duration
	// MaxSubscribers bounds the subscriber table.
	MaxSubscribers int
	// TrustedProxies are the networks whose requests may name another
	// push address in clientIP (empty: none).
	TrustedProxies []netip.Prefix
	// MaxPerTarget bounds the subscriptions pushed to one IP address,
	// MaxPerSource those made by requests from one IP address.
	MaxPerTarget, MaxPerSource int
}

// DefaultConfig returns the Nacos 1.x timings, except the merge delay:
// 500 ms as in Nacos 2 (Nacos 1.x waits 1 s), so a change reaches
// subscribers well within a second even when the service changes often.
func DefaultConfig() Config {
	return Config{
		Enabled:        true,
		Target:         TargetClientIP,
		Listen:         ":0",
		MergeDelay:     500 * time.Millisecond,
		AckTimeout:     10 * time.Second,
		Resends:        1,
		SubscriberTTL:  10 * time.Second,
		MaxSubscribers: 100000,
		MaxPerTarget:   1024,
		MaxPerSource:   4096,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	if c.Target != TargetClientIP && c.Target != TargetSource {
		errs = append(errs, fmt.Errorf("push target must be %q or %q, got %q", TargetClientIP, TargetSource, c.Target))
	}
	if c.Listen == "" {
		errs = append(errs, errors.New("push listen address is empty"))
	}
	if c.MergeDelay < 0 || c.MergeDelay > time.Minute {
		errs = append(errs, fmt.Errorf("push merge delay must be between 0 and 1m, got %s", c.MergeDelay))
	}
	if c.AckTimeout <= 0 || c.AckTimeout > 10*time.Minute {
		errs = append(errs, fmt.Errorf("push ack timeout must be between 0 and 10m, got %s", c.AckTimeout))
	}
	if c.Resends < 0 || c.Resends > 10 {
		errs = append(errs, fmt.Errorf("push resends must be between 0 and 10, got %d", c.Resends))
	}
	if c.SubscriberTTL <= 0 {
		errs = append(errs, fmt.Errorf("push subscriber ttl must be positive, got %s", c.SubscriberTTL))
	}
	if c.MaxSubscribers <= 0 || c.MaxPerTarget <= 0 || c.MaxPerSource <= 0 {
		errs = append(errs, fmt.Errorf("push max subscribers (in all, per target, per source) must be positive, got %d, %d, %d",
			c.MaxSubscribers, c.MaxPerTarget, c.MaxPerSource))
	}
	return errors.Join(errs...)
}

// tick is how often the push loop looks at due pushes, retransmits and
// expiries: fine enough for the configured delays, never busier than 5 ms.
func (c Config) tick() time.Duration {
	d := c.AckTimeout
	if c.MergeDelay > 0 && c.MergeDelay < d {
		d = c.MergeDelay
	}
	d /= 4
	switch {
	case d < 5*time.Millisecond:
		d = 5 * time.Millisecond
	case d > 50*time.Millisecond:
		d = 50 * time.Millisecond // a first change goes out within one tick
	}
	return d
}
