package naming

// Member states, as Nacos reports them.
const (
	MemberUp         = "UP"
	MemberSuspicious = "SUSPICIOUS"
	MemberDown       = "DOWN"
	MemberStarting   = "STARTING"
)

// Member is one node of the cluster as another node sees it.
type Member struct {
	// Address is the member's HTTP address, host:port.
	Address string `json:"address"`
	State   string `json:"state"`
	// Self is true for the node that produced the list.
	Self bool `json:"self"`
	// RaftRole is Leader, Follower, Candidate or "" when Raft is not running.
	RaftRole string `json:"raftRole,omitempty"`
	// LastSeen is when the member last answered, Unix milliseconds.
	LastSeen int64 `json:"lastSeen"`
	// FailCount counts consecutive failed reports.
	FailCount int `json:"failAccessCnt"`
}
