package naming

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
)

// digestSum is an order-independent digest of a set of instances: the sum,
// lane by lane modulo 2^64, of the MD5 of each instance's visible fields.
// A new view's sums follow from the previous view's by adding the
// instances that came and subtracting those that went, so publishing a
// change costs a few digests whatever the size of the service.
type digestSum struct{ lo, hi uint64 }

func (d *digestSum) add(s [16]byte) {
	d.lo += binary.LittleEndian.Uint64(s[:8])
	d.hi += binary.LittleEndian.Uint64(s[8:])
}

func (d *digestSum) sub(s [16]byte) {
	d.lo -= binary.LittleEndian.Uint64(s[:8])
	d.hi -= binary.LittleEndian.Uint64(s[8:])
}

func (d digestSum) bytes() [16]byte {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], d.lo)
	binary.LittleEndian.PutUint64(b[8:], d.hi)
	return b
}

// serviceSums are the digests of all instances and of the ephemeral ones,
// and the count of the persistent ones, which follow a view's changes the
// same way.
type serviceSums struct {
	all, eph   digestSum
	persistent int
	ok         bool
}

func (s *serviceSums) add(in *Instance, svc ServiceKey) {
	d := instanceSum(in, svc)
	s.all.add(d)
	if in.Ephemeral {
		s.eph.add(d)
	} else {
		s.persistent++
	}
}

func (s *serviceSums) sub(in *Instance, svc ServiceKey) {
	d := instanceSum(in, svc)
	s.all.sub(d)
	if in.Ephemeral {
		s.eph.sub(d)
	} else {
		s.persistent--
	}
}

// computeSums sets the sums of s (a view not yet published), from those of
// old, an earlier view of the same service, when there is one. The result
// depends only on s's instances: an instance of old that is not the very
// same value in s is subtracted, and one of s that is not in old added.
func (s *Service) computeSums(old *Service) {
	if s.sums.ok {
		return
	}
	if old == nil || !old.sums.ok {
		for in := range s.All() {
			s.sums.add(in, s.Key)
		}
		s.sums.ok = true
		return
	}
	s.sums = old.sums
	s.sums.ok = false
	diff := func(was, now *Instance) {
		if was != nil {
			s.sums.sub(was, s.Key)
		}
		if now != nil {
			s.sums.add(now, s.Key)
		}
	}
	if old.lazy != nil && s.lazy != nil {
		diffTrees(old.tree, s.tree, diff)
	} else {
		DiffInstances(old.list(), s.list(), diff)
	}
	s.sums.ok = true
}

// checksum digests the visible content of s: the protect threshold and
// every instance.
func checksum(s *Service) string {
	s.computeSums(nil)
	b := strconv.AppendFloat(make([]byte, 0, 48), s.Meta.ProtectThreshold, 'g', -1, 64)
	all := s.sums.all.bytes()
	sum := md5.Sum(append(b, all[:]...))
	return hex.EncodeToString(sum[:])
}

// ephemeralChecksum covers only the ephemeral instances: what Distro replicates.
func ephemeralChecksum(s *Service) string {
	s.computeSums(nil)
	eph := s.sums.eph.bytes()
	sum := md5.Sum(eph[:])
	return hex.EncodeToString(sum[:])
}

// instanceSum digests the visible fields of one instance of svc.
func instanceSum(in *Instance, svc ServiceKey) [16]byte {
	var buf [256]byte
	b := in.Key().AppendID(buf[:0], svc)
	b = append(b, '_')
	b = strconv.AppendFloat(b, in.Weight, 'g', -1, 64)
	b = strconv.AppendBool(b, in.Healthy)
	b = strconv.AppendBool(b, in.Enabled)
	b = strconv.AppendBool(b, in.Ephemeral)
	var kbuf [8]string
	keys := kbuf[:0]
	for k := range in.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		v := in.Metadata[k]
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return md5.Sum(b)
}
