package consensus

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"

	"sextant/naming"
)

// The log file holds one record per CP op, appended in apply order:
//
//	uint32 little-endian payload length | uint32 little-endian CRC-32C of payload | payload
//
// and the payload is the JSON object {"seq":N,"op":{...}}. Sequence numbers
// increase by one from record to record, and go on from the snapshot's.
//
// The records follow a header of walHeaderSize bytes: the magic walMagic,
// the uint64 little-endian synced offset, and the CRC-32C of the two. The
// synced offset is a file offset up to which every record is known to be on
// disk; it is rewritten before each fsync with the offset the previous fsync
// covered, so that fsync stores it with the new records. Everything before
// it was acknowledged; nothing after it is trusted. A log written before
// the header existed starts with a record (its first four bytes, a length,
// never spell the magic) and is read without a synced offset until
// compaction rewrites it.
const (
	logName        = "wal.log"
	recordHeader   = 8
	maxRecordBytes = 16 << 20
	walMagic       = "SXTWAL01"
	walHeaderSize  = 32
)

// castagnoli returns the CRC-32C table; hash/crc32 builds it once and
// shares it.
func castagnoli() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// record is one decoded log record.
type record struct {
	Seq uint64    `json:"seq"`
	Op  naming.Op `json:"op"`
}

// appendRecord appends the framed record (seq, op) to buf; opJSON is the
// op's JSON encoding.
func appendRecord(buf []byte, tab *crc32.Table, seq uint64, opJSON []byte) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, recordHeader)...)
	buf = append(buf, `{"seq":`...)
	buf = strconv.AppendUint(buf, seq, 10)
	buf = append(buf, `,"op":`...)
	buf = append(buf, opJSON...)
	buf = append(buf, '}')
	payload := buf[start+recordHeader:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[start+4:], crc32.Checksum(payload, tab))
	return buf
}

// wal is the open log file. Its methods are not safe for concurrent use; the
// Standalone's mutexes order them.
type wal struct {
	f *os.File // reads, truncation and the lock
	// out takes appends and syncs: f itself, or a wrapper that fails on
	// purpose in tests.
	out syncWriter
	// hdr writes the header in place (f appends whatever the offset).
	hdr  *os.File
	tab  *crc32.Table
	size int64 // bytes of the header and of whole records in the file
	// base is where records start: walHeaderSize, or 0 in a log without a
	// header. synced is the synced offset the header holds (0: unknown).
	base, synced int64
}

type syncWriter interface {
	Write(b []byte) (int, error)
	Sync() error
}

// openWAL opens the log and reads its header; a new log gets one.
func openWAL(path string) (*wal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	hdr, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &wal{f: f, out: f, hdr: hdr, tab: castagnoli()}
	if err := w.readHeader(); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// readHeader sets base and synced from the file, writing a header into an
// empty file.
func (w *wal) readHeader() error {
	fi, err := w.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return w.reset()
	}
	var b [walHeaderSize]byte
	n, err := w.f.ReadAt(b[:], 0)
	if n < len(walMagic) || string(b[:len(walMagic)]) != walMagic {
		return nil // a log from before the header: records from offset 0
	}
	w.base = walHeaderSize
	if n < walHeaderSize {
		return fmt.Errorf("%w: log header cut short (%d bytes): %v", errCorrupt, n, err)
	}
	if crc32.Checksum(b[:16], w.tab) == binary.LittleEndian.Uint32(b[16:]) {
		w.synced = int64(binary.LittleEndian.Uint64(b[8:]))
	}
	// A header torn by a crash leaves the synced offset unknown (0): the
	// log is then read as one without it.
	return nil
}

// markSynced records off as the synced offset in the header. It is stored
// by the next fsync of the log.
func (w *wal) markSynced(off int64) error {
	if w.base == 0 || off == w.synced {
		return nil
	}
	var b [walHeaderSize]byte
	copy(b[:], walMagic)
	binary.LittleEndian.PutUint64(b[8:], uint64(off))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], w.tab))
	if _, err := w.hdr.WriteAt(b[:], 0); err != nil {
		return err
	}
	w.synced = off
	return nil
}

// reset empties the log and writes a fresh header, synced.
func (w *wal) reset() error {
	if err := w.f.Truncate(0); err != nil {
		return err
	}
	w.base, w.size, w.synced = walHeaderSize, 0, 0
	if err := w.markSynced(walHeaderSize); err != nil {
		return err
	}
	w.size = walHeaderSize
	return w.f.Sync()
}

// append writes framed records at the end of the file. On error it cuts the
// file back to the last whole record, so a failed write leaves no partial
// record behind.
func (w *wal) append(b []byte) error {
	if _, err := w.out.Write(b); err != nil {
		if terr := w.f.Truncate(w.size); terr != nil {
			return errors.Join(err, fmt.Errorf("cut back the failed write: %w", terr))
		}
		return err
	}
	w.size += int64(len(b))
	return nil
}

func (w *wal) sync() error { return w.out.Sync() }

// truncate cuts the file to size bytes and syncs it.
func (w *wal) truncate(size int64) error {
	if err := w.f.Truncate(size); err != nil {
		return err
	}
	w.size = size
	return w.f.Sync()
}

func (w *wal) close() error { return errors.Join(w.f.Close(), w.hdr.Close()) }

// errCorrupt marks damage before the end of the log, which is never repaired
// automatically.
var errCorrupt = errors.New("log is corrupt")

// scanResult is what a scan of the log found.
type scanResult struct {
	good    int64  // bytes of whole, valid records
	lastSeq uint64 // sequence number of the last valid record (0 if none)
	records int    // valid records
	torn    string // why the tail after good is not a record; "" when there is no tail
}

// scanLog reads the records in bytes [base, size) of f and calls fn for
// each. A bad record (a short header or payload, a CRC mismatch, a length
// of zero) at or after synced, the offset up to which the log is known to
// be on disk (0: unknown), is an unsynced tail, which may hold holes, since
// pages of one write reach the disk in any order: the scan stops there and
// reports it in torn. Before synced, a bad record that is the last thing in
// the file is a torn write (a log without a synced offset), and anything
// else is corruption (errCorrupt). An error from fn stops the scan.
func scanLog(f *os.File, base, synced, size int64, tab *crc32.Table, fn func(record) error) (scanResult, error) {
	res := scanResult{good: base}
	r := bufio.NewReaderSize(io.NewSectionReader(f, base, size-base), 1<<16)
	var hdr [recordHeader]byte
	var payload []byte
	off := base
	tail := func(off int64) bool { return synced > 0 && off >= synced }
	for off < size {
		if size-off < recordHeader {
			res.torn = fmt.Sprintf("%d bytes of a record header", size-off)
			return res, nil
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return res, err
		}
		n := int64(binary.LittleEndian.Uint32(hdr[:]))
		sum := binary.LittleEndian.Uint32(hdr[4:])
		end := off + recordHeader + n
		bad := ""
		switch {
		case n == 0 || n > maxRecordBytes:
			// Never written by append: a zero-filled tail or damage.
			bad = fmt.Sprintf("record length %d", n)
		case n > size-off-recordHeader:
			// A write cut short by a crash: the header made it, the payload did not.
			res.torn = fmt.Sprintf("a record of %d bytes with %d present", n, size-off-recordHeader)
			return res, nil
		default:
			if int64(cap(payload)) < n {
				payload = make([]byte, n)
			}
			payload = payload[:n]
			if _, err := io.ReadFull(r, payload); err != nil {
				return res, err
			}
			if crc32.Checksum(payload, tab) != sum {
				bad = "checksum mismatch"
			}
		}
		if bad != "" && tail(off) {
			res.torn = bad + " after the synced offset"
			return res, nil
		}
		if bad != "" {
			// A crash cuts a write short but never garbles what it kept, and
			// some file systems fill the lost part with zeros. So a bad
			// record is a torn write only when it is the last thing in the
			// file, or when zeros follow it (or replace it) to the end.
			var torn bool
			if n == 0 || n > maxRecordBytes {
				torn = onlyZeros(f, off, size)
			} else {
				torn = end == size || onlyZeros(f, end, size)
			}
			if torn {
				res.torn = bad
				return res, nil
			}
			return res, fmt.Errorf("%w: %s at offset %d", errCorrupt, bad, off)
		}
		var rec record
		if err := json.Unmarshal(payload, &rec); err != nil {
			if tail(off) {
				res.torn = "undecodable record after the synced offset"
				return res, nil
			}
			return res, fmt.Errorf("%w: undecodable record at offset %d: %v", errCorrupt, off, err)
		}
		if res.lastSeq != 0 && rec.Seq != res.lastSeq+1 {
			if tail(off) {
				res.torn = "out-of-sequence record after the synced offset"
				return res, nil
			}
			return res, fmt.Errorf("%w: record %d follows record %d at offset %d", errCorrupt, rec.Seq, res.lastSeq, off)
		}
		if err := fn(rec); err != nil {
			return res, err
		}
		res.lastSeq = rec.Seq
		res.records++
		off = end
		res.good = off
	}
	return res, nil
}

// onlyZeros reports whether bytes [from, to) of f are all zero, as a file
// system may leave them after a crash.
func onlyZeros(f *os.File, from, to int64) bool {
	buf := make([]byte, 1<<16)
	for from < to {
		n := min(int64(len(buf)), to-from)
		if _, err := f.ReadAt(buf[:n], from); err != nil {
			return false
		}
		for _, b := range buf[:n] {
			if b != 0 {
				return false
			}
		}
		from += n
	}
	return true
}
