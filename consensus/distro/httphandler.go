package distro

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"sextant/consensus/cluster"
	"sextant/consensus/nodeauth"
	"sextant/naming"
)

// NewHTTPHandler serves the distro API for h under PathPrefix. Every
// request must name its sender (cluster.FromHeader) and, but for snapshots,
// carry its member-list hash (cluster.HashHeader); bodies larger than
// cfg.MaxBody get 413, and with cfg.Secret set, requests not signed with
// it get 401 before their body is read (consensus/nodeauth). Errors come back as {"kind","message"} with the status of
// their kind. Mount it at PathPrefix.
func NewHTTPHandler(h Handler, cfg HTTPConfig) http.Handler {
	s := &server{h: h, max: cfg.MaxBody}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+ForwardPath, s.forward)
	mux.HandleFunc("POST "+BatchPath, s.forwardBatch)
	mux.HandleFunc("POST "+SyncPath, s.sync)
	mux.HandleFunc("POST "+CompactSyncPath, s.sync)
	mux.HandleFunc("POST "+RelayPath, s.relay)
	mux.HandleFunc("POST "+RelayForwardPath, s.relayForward)
	mux.HandleFunc("POST "+VerifyPath, s.verify)
	mux.HandleFunc("POST "+FetchPath, s.fetch)
	mux.HandleFunc("GET "+SnapshotPath, s.snapshot)
	return nodeauth.Require(cfg.Secret, cfg.MaxBody, mux)
}

type server struct {
	h   Handler
	max int64
}

// parse reads the sender headers and, when in is not nil, the JSON body.
// A compact body is decoded by compact into in instead (when compact is
// not nil).
func (s *server) parse(w http.ResponseWriter, r *http.Request, needHash bool, in any) (string, uint64, bool) {
	return s.parseBody(w, r, needHash, in, nil)
}

func (s *server) parseBody(w http.ResponseWriter, r *http.Request, needHash bool, in any, compact func([]byte) error) (string, uint64, bool) {
	from := r.Header.Get(cluster.FromHeader)
	if from == "" {
		fail(w, naming.Errorf(naming.ErrInvalid, "missing %s header", cluster.FromHeader))
		return "", 0, false
	}
	var hash uint64
	if needHash {
		var err error
		if hash, err = cluster.ParseHash(r.Header.Get(cluster.HashHeader)); err != nil {
			fail(w, naming.Errorf(naming.ErrInvalid, "bad or missing %s header", cluster.HashHeader))
			return "", 0, false
		}
	}
	if compact != nil && isCompact(r) {
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.max))
		if err == nil {
			err = compact(data)
		}
		if err != nil {
			s.failBody(w, err)
			return "", 0, false
		}
		return from, hash, true
	}
	if in != nil {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.max))
		if err := dec.Decode(in); err != nil {
			s.failBody(w, err)
			return "", 0, false
		}
	}
	return from, hash, true
}

// failBody answers a request whose body could not be read or decoded.
func (s *server) failBody(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		fail(w, naming.Errorf(naming.ErrTooLarge, "request body larger than %d bytes", s.max))
		return
	}
	fail(w, naming.Errorf(naming.ErrInvalid, "bad request body: %v", err))
}

func (s *server) forward(w http.ResponseWriter, r *http.Request) {
	var op naming.Op
	if from, hash, ok := s.parse(w, r, true, &op); ok {
		reply(w, s.h.OnForward(r.Context(), from, hash, op), nil)
	}
}

func (s *server) forwardBatch(w http.ResponseWriter, r *http.Request) {
	s.batch(w, r, s.h.OnForwardBatch)
}

func (s *server) relayForward(w http.ResponseWriter, r *http.Request) {
	to, ok := relayTarget(w, r)
	if !ok {
		return
	}
	s.batch(w, r, func(ctx context.Context, from string, hash uint64, ops []naming.Op) ([]error, error) {
		return s.h.OnRelayForward(ctx, from, to, hash, ops)
	})
}

// batch reads a message of writes, hands it to apply and answers in the
// encoding of the request.
func (s *server) batch(w http.ResponseWriter, r *http.Request, apply func(context.Context, string, uint64, []naming.Op) ([]error, error)) {
	var b forwardBody
	from, hash, ok := s.parseBody(w, r, true, &b, func(data []byte) (err error) {
		b.Ops, err = decodeOps(data)
		return err
	})
	if !ok {
		return
	}
	errs, err := apply(r.Context(), from, hash, b.Ops)
	if err != nil || !isCompact(r) {
		reply(w, err, resultsToWire(errs))
		return
	}
	w.Header().Set("Content-Type", CompactType)
	_, _ = w.Write(appendResults(nil, errs))
}

func (s *server) sync(w http.ResponseWriter, r *http.Request) {
	var b syncBody
	from, hash, ok := s.parseBody(w, r, true, &b, func(data []byte) (err error) {
		b.Records, err = decodeRecords(data)
		return err
	})
	if ok {
		reply(w, s.h.OnSync(r.Context(), from, hash, b.Records), nil)
	}
}

// relayTarget reads the member a relayed message is for; false, having
// answered, when the request names none.
func relayTarget(w http.ResponseWriter, r *http.Request) (string, bool) {
	to := r.URL.Query().Get("to")
	if to == "" {
		fail(w, naming.Errorf(naming.ErrInvalid, "missing the member to relay to (query parameter to)"))
	}
	return to, to != ""
}

func (s *server) relay(w http.ResponseWriter, r *http.Request) {
	to, ok := relayTarget(w, r)
	if !ok {
		return
	}
	var b syncBody
	from, hash, ok := s.parseBody(w, r, true, &b, func(data []byte) (err error) {
		b.Records, err = decodeRecords(data)
		return err
	})
	if ok {
		reply(w, s.h.OnRelay(r.Context(), from, to, hash, b.Records), nil)
	}
}

func isCompact(r *http.Request) bool { return r.Header.Get("Content-Type") == CompactType }

func (s *server) verify(w http.ResponseWriter, r *http.Request) {
	var b verifyBody
	if from, hash, ok := s.parse(w, r, true, &b); ok {
		keys, err := s.h.OnVerify(r.Context(), from, hash, sumsFromWire(b))
		reply(w, err, keysBody{Keys: keys})
	}
}

func (s *server) fetch(w http.ResponseWriter, r *http.Request) {
	var b keysBody
	if from, hash, ok := s.parse(w, r, true, &b); ok {
		recs, err := s.h.Records(r.Context(), from, hash, b.Keys)
		reply(w, err, syncBody{Records: recs})
	}
}

func (s *server) snapshot(w http.ResponseWriter, r *http.Request) {
	if from, _, ok := s.parse(w, r, false, nil); ok {
		recs, err := s.h.All(r.Context(), from)
		reply(w, err, syncBody{Records: recs})
	}
}

func reply(w http.ResponseWriter, err error, out any) {
	switch {
	case err != nil:
		fail(w, err)
	case out == nil:
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}
}

func fail(w http.ResponseWriter, err error) {
	status, body := encodeError(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// NewNodeHandler serves both node-to-node APIs of one node: membership
// reports under /sextant/v1/cluster/ and distro under PathPrefix. Mount it
// at "/sextant/v1/".
func NewNodeHandler(h Handler, m *cluster.Membership, ccfg cluster.HTTPConfig, dcfg HTTPConfig) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/sextant/v1/cluster/", cluster.NewHTTPHandler(m, ccfg))
	mux.Handle(PathPrefix, NewHTTPHandler(h, dcfg))
	return mux
}
