package grpcfront

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Payload is the one message of the protocol (nacos.proto): the type of
// the JSON body, the caller's address and headers, and the body itself.
type Payload struct {
	Type     string
	ClientIP string
	Headers  map[string]string
	// TypeURL is the Any's type_url; clients leave it empty.
	TypeURL string
	Body    []byte
	// raw, when set, is the message already encoded (a push rendered
	// once for all subscribers); marshal returns it as is.
	raw []byte
	// size is the encoded size of a received message.
	size int
}

// Field numbers of nacos.proto.
const (
	fieldMetadata  = 2
	fieldBody      = 3
	fieldMetaType  = 3
	fieldMetaIP    = 8
	fieldMetaHdr   = 7
	fieldMapKey    = 1
	fieldMapValue  = 2
	fieldAnyURL    = 1
	fieldAnyValue  = 2
	maxHeaderCount = 256
)

var errMalformed = errors.New("malformed payload")

// marshal encodes p as nacos.proto's Payload, into one buffer of the
// exact size.
func (p *Payload) marshal() []byte {
	if p.raw != nil {
		return p.raw
	}
	field := func(n protowire.Number, size int) int { return protowire.SizeTag(n) + protowire.SizeBytes(size) }
	entry := func(k, v string) int { return field(fieldMapKey, len(k)) + field(fieldMapValue, len(v)) }
	md := 0
	if p.Type != "" {
		md += field(fieldMetaType, len(p.Type))
	}
	for k, v := range p.Headers {
		md += field(fieldMetaHdr, entry(k, v))
	}
	if p.ClientIP != "" {
		md += field(fieldMetaIP, len(p.ClientIP))
	}
	body := 0
	if p.TypeURL != "" {
		body += field(fieldAnyURL, len(p.TypeURL))
	}
	if len(p.Body) > 0 {
		body += field(fieldAnyValue, len(p.Body))
	}
	out := make([]byte, 0, field(fieldMetadata, md)+field(fieldBody, body))
	out = protowire.AppendTag(out, fieldMetadata, protowire.BytesType)
	out = protowire.AppendVarint(out, uint64(md))
	if p.Type != "" {
		out = protowire.AppendTag(out, fieldMetaType, protowire.BytesType)
		out = protowire.AppendString(out, p.Type)
	}
	for k, v := range p.Headers {
		out = protowire.AppendTag(out, fieldMetaHdr, protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(entry(k, v)))
		out = protowire.AppendTag(out, fieldMapKey, protowire.BytesType)
		out = protowire.AppendString(out, k)
		out = protowire.AppendTag(out, fieldMapValue, protowire.BytesType)
		out = protowire.AppendString(out, v)
	}
	if p.ClientIP != "" {
		out = protowire.AppendTag(out, fieldMetaIP, protowire.BytesType)
		out = protowire.AppendString(out, p.ClientIP)
	}
	out = protowire.AppendTag(out, fieldBody, protowire.BytesType)
	out = protowire.AppendVarint(out, uint64(body))
	if p.TypeURL != "" {
		out = protowire.AppendTag(out, fieldAnyURL, protowire.BytesType)
		out = protowire.AppendString(out, p.TypeURL)
	}
	if len(p.Body) > 0 {
		out = protowire.AppendTag(out, fieldAnyValue, protowire.BytesType)
		out = protowire.AppendBytes(out, p.Body)
	}
	return out
}

// unmarshal decodes b into p. Unknown fields are skipped, as protobuf
// does; the body is copied, so b may be reused afterwards.
func (p *Payload) unmarshal(b []byte) error {
	*p = Payload{size: len(b)}
	return eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fieldMetadata:
			return p.unmarshalMetadata(v)
		case fieldBody:
			return eachField(v, func(num protowire.Number, v []byte) error {
				switch num {
				case fieldAnyURL:
					p.TypeURL = string(v)
				case fieldAnyValue:
					p.Body = append([]byte(nil), v...)
				}
				return nil
			})
		}
		return nil
	})
}

func (p *Payload) unmarshalMetadata(b []byte) error {
	return eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fieldMetaType:
			p.Type = string(v)
		case fieldMetaIP:
			p.ClientIP = string(v)
		case fieldMetaHdr:
			var k, val string
			if err := eachField(v, func(num protowire.Number, v []byte) error {
				switch num {
				case fieldMapKey:
					k = string(v)
				case fieldMapValue:
					val = string(v)
				}
				return nil
			}); err != nil {
				return err
			}
			if p.Headers == nil {
				p.Headers = map[string]string{}
			}
			if len(p.Headers) >= maxHeaderCount {
				return fmt.Errorf("%w: more than %d headers", errMalformed, maxHeaderCount)
			}
			p.Headers[k] = val
		}
		return nil
	})
}

// eachField calls fn with the number and content of every length-delimited
// field of b; fields of other wire types are checked and skipped.
func eachField(b []byte, fn func(protowire.Number, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, v); err != nil {
			return err
		}
	}
	return nil
}

// Codec lets gRPC carry *Payload without generated code. It is forced on
// the server, so it answers to the "proto" content subtype clients send;
// tools speaking the protocol use it with grpc.ForceCodec.
type Codec struct{}

func (Codec) Name() string { return "proto" }

func (Codec) Marshal(v any) ([]byte, error) {
	p, ok := v.(*Payload)
	if !ok {
		return nil, fmt.Errorf("grpcfront codec: cannot marshal %T", v)
	}
	return p.marshal(), nil
}

func (Codec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*Payload)
	if !ok {
		return fmt.Errorf("grpcfront codec: cannot unmarshal into %T", v)
	}
	return p.unmarshal(data)
}
