package push

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// GzipThreshold is the size from which a push datagram is compressed.
const GzipThreshold = 1024

// maxDatagram is the largest UDP payload over IPv4.
const maxDatagram = 65507

// encodePacket builds the push datagram carrying data (an instance/list
// JSON document) with sequence number seq, compressed when large.
func encodePacket(data []byte, seq int64) ([]byte, error) {
	q, err := json.Marshal(string(data))
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(q)+64)
	b = append(b, `{"type":"dom","data":`...)
	b = append(b, q...)
	b = append(b, `,"lastRefTime":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, '}')
	if len(b) >= GzipThreshold {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(b); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		b = buf.Bytes()
	}
	if len(b) > maxDatagram {
		return nil, fmt.Errorf("push of %d bytes does not fit a datagram", len(b))
	}
	return b, nil
}

// parseAck reads a client's ack: its type and the lastRefTime it echoes,
// given as a JSON string (Go, Java) or number (Node).
func parseAck(b []byte) (typ string, seq int64, err error) {
	var a struct {
		Type        string          `json:"type"`
		LastRefTime json.RawMessage `json:"lastRefTime"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return "", 0, err
	}
	if !strings.HasSuffix(a.Type, "-ack") {
		return "", 0, fmt.Errorf("not an ack: type %q", a.Type)
	}
	raw := a.LastRefTime
	if len(raw) == 0 {
		return "", 0, errors.New("ack without lastRefTime")
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", 0, err
		}
	}
	seq, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("ack lastRefTime %q is not an integer", s)
	}
	return a.Type, seq, nil
}
