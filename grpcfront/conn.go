package grpcfront

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/stats"
)

// conn is one client connection: one HTTP/2 connection, whose id the
// client learns from ServerCheckRequest and which is "set up" once its
// bi-stream carried ConnectionSetupRequest. Pushes and probes go out on
// that stream, from one sender at a time (outbox.go).
type conn struct {
	id     string
	remote string
	// lastActive is when the client last sent anything, Unix nanoseconds.
	lastActive atomic.Int64
	// probe is when a ClientDetectionRequest went out unanswered, Unix
	// nanoseconds; 0 when none is waiting.
	probe atomic.Int64

	mu sync.Mutex
	// setup is set while the bi-stream that set the connection up runs.
	setup bool
	// ended is set once the connection is gone; nothing new is bound to it.
	ended         bool
	clientVersion string
	app           string
	// subs are the subscriptions, insts the instances bound to it; most
	// connections hold few or none (keyset.go).
	subs  keySet[subKey]
	insts keySet[instRef]
	// kill cancels the context of the HTTP/2 connection's streams: the
	// bi-stream's read returns and its handler ends (ejection, end).
	kill context.CancelFunc

	// out holds what is to be sent on the bi-stream; see outbox.go.
	out outbox
	// moved is set once this member, cut off from the majority, asked the
	// client to move (cutoff.go): the connection's end then keeps its
	// instances, which the client registers again at its new member.
	moved atomic.Bool
}

func newConn(id, remote string, now time.Time, kill context.CancelFunc) *conn {
	c := &conn{id: id, remote: remote, kill: kill}
	c.touch(now)
	return c
}

func (c *conn) touch(now time.Time) { c.lastActive.Store(now.UnixNano()) }

func (c *conn) isSetup() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.setup && !c.ended
}

type connKey struct{}

// connOf returns the connection a request arrived on.
func connOf(ctx context.Context) *conn {
	c, _ := ctx.Value(connKey{}).(*conn)
	return c
}

// connIDs makes connection ids as Nacos does, "<millis>_<ip>_<port>", with
// a sequence number that keeps them unique within the process.
type connIDs struct{ seq atomic.Uint64 }

func (g *connIDs) next(remote net.Addr, now time.Time) string {
	ip, port := "", ""
	if remote != nil {
		if h, p, err := net.SplitHostPort(remote.String()); err == nil {
			ip, port = h, p
		}
	}
	return strconv.FormatInt(now.UnixMilli(), 10) + "_" + ip + "_" + port + "_" + strconv.FormatUint(g.seq.Add(1), 10)
}

// statsHandler tags every HTTP/2 connection with a *conn and ends it when
// the connection closes.
type statsHandler struct{ s *Server }

func (h statsHandler) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	now := h.s.now()
	// Every stream's context derives from this one (grpc-go), so kill
	// ends them all.
	ctx, kill := context.WithCancel(ctx)
	c := newConn(h.s.ids.next(info.RemoteAddr, now), addrString(info.RemoteAddr), now, kill)
	h.s.stats.opened.Add(1)
	return context.WithValue(ctx, connKey{}, c)
}

func (h statsHandler) HandleConn(ctx context.Context, st stats.ConnStats) {
	if _, ok := st.(*stats.ConnEnd); ok {
		if c := connOf(ctx); c != nil {
			h.s.stats.closed.Add(1)
			h.s.end(c, "connection closed")
		}
	}
}

func (statsHandler) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (statsHandler) HandleRPC(context.Context, stats.RPCStats)                       {}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
