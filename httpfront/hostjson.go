package httpfront

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"sextant/naming"
)

// appendHost appends hostOf(in, key, serviceName, healthy) as encoding/json
// encodes it, byte for byte, without reflection: the fields in order,
// metadata keys sorted, and strings, numbers and booleans written as
// encoding/json writes them. Strings and numbers outside the plain kind
// (escapes, exponent notation) are handed to encoding/json itself.
func appendHost(b []byte, in *naming.Instance, key naming.ServiceKey, serviceName string, healthy bool) []byte {
	t := naming.TimingsOf(in.Metadata)
	b = append(b, `{"instanceId":`...)
	var id [128]byte
	b = appendJSONString(b, in.Key().AppendID(id[:0], key))
	b = append(b, `,"ip":`...)
	b = appendJSONString(b, in.IP)
	b = append(b, `,"port":`...)
	b = strconv.AppendInt(b, int64(in.Port), 10)
	b = append(b, `,"weight":`...)
	b = appendJSONFloat(b, in.Weight)
	b = append(b, `,"healthy":`...)
	b = strconv.AppendBool(b, healthy)
	b = append(b, `,"enabled":`...)
	b = strconv.AppendBool(b, in.Enabled)
	b = append(b, `,"ephemeral":`...)
	b = strconv.AppendBool(b, in.Ephemeral)
	b = append(b, `,"clusterName":`...)
	b = appendJSONString(b, in.Cluster)
	b = append(b, `,"serviceName":`...)
	b = appendJSONString(b, serviceName)
	b = append(b, `,"metadata":{`...)
	if len(in.Metadata) > 0 {
		var stack [8]string
		keys := stack[:0]
		for k := range in.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, in.Metadata[k])
		}
	}
	b = append(b, `},"valid":`...)
	b = strconv.AppendBool(b, healthy)
	b = append(b, `,"marked":false,"instanceHeartBeatInterval":`...)
	b = strconv.AppendInt(b, t.Interval.Milliseconds(), 10)
	b = append(b, `,"instanceHeartBeatTimeOut":`...)
	b = strconv.AppendInt(b, t.Timeout.Milliseconds(), 10)
	b = append(b, `,"ipDeleteTimeout":`...)
	b = strconv.AppendInt(b, t.Delete.Milliseconds(), 10)
	return append(b, '}')
}

// appendJSONString appends s quoted: as it is when every byte is printable
// ASCII that encoding/json leaves alone (not '"', '\\', '<', '>', '&'),
// else as encoding/json writes it.
func appendJSONString[S ~string | ~[]byte](b []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(string(s))
			if err != nil { // cannot happen for a string
				return append(b, `""`...)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONFloat appends f as encoding/json writes a float64: the
// shortest decimal without exponent from 1e-6 to 1e21 (and 0), and
// encoding/json's own spelling otherwise.
func appendJSONFloat(b []byte, f float64) []byte {
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	q, err := json.Marshal(f)
	if err != nil { // NaN or an infinity, which validation keeps out
		return append(b, '0')
	}
	return append(b, q...)
}
