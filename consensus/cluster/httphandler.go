package cluster

import (
	"encoding/json"
	"io"
	"net/http"

	"sextant/consensus/nodeauth"
)

// NewHTTPHandler serves the membership API: POST ReportPath takes a report
// (204; 400 for a bad one; 403 from a non-member) and GET MembersPath lists
// this node's view. With cfg.Secret set, unsigned requests get 401
// (consensus/nodeauth). Mount it at "/sextant/v1/cluster/".
func NewHTTPHandler(m *Membership, cfg HTTPConfig) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+ReportPath, func(w http.ResponseWriter, r *http.Request) {
		from := r.Header.Get(FromHeader)
		hash, err := ParseHash(r.Header.Get(HashHeader))
		if from == "" || err != nil {
			http.Error(w, "report needs "+FromHeader+" and "+HashHeader, http.StatusBadRequest)
			return
		}
		var body reportBody
		if r.ContentLength != 0 {
			// An older member sends no body; a bad one is refused.
			if err := json.NewDecoder(io.LimitReader(r.Body, maxReportBody)).Decode(&body); err != nil && err != io.EOF {
				http.Error(w, "bad report body: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		if err := m.HandleReport(Report{From: from, Hash: hash, Live: body.Live, Reach: body.Reach, Progress: body.Progress}); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		w.Header().Set(HashHeader, FormatHash(m.Hash()))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+MembersPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m.Members())
	})
	return nodeauth.Require(cfg.Secret, maxReportBody, mux)
}
