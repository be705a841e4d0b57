package datasets

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go/format"
)

// checkParquetFooter reads the footer of a Parquet file and checks that
// every length it declares (of a list, a set, a map or a byte string) fits
// in the bytes that remain, before the Parquet library decodes it: the
// library allocates what a length declares before reading the elements, so
// a 4 KB file declaring a list of 200 million schema elements would make it
// allocate gigabytes. It is a bound check over the Thrift compact protocol
// (the encoding of Parquet's metadata), not a decoder: the library still
// decodes the footer. It also refuses encrypted footers, which Read does
// not support.
func checkParquetFooter(r io.ReaderAt, size int64) error {
	if size < 12 {
		return fmt.Errorf("a file of %d bytes is too short for Parquet", size)
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return fmt.Errorf("reading the footer: %w", err)
	}
	switch string(tail[4:]) {
	case "PAR1":
	case "PARE":
		return errors.New("encrypted Parquet files are not supported")
	default:
		return fmt.Errorf("invalid magic footer %q", tail[4:])
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 {
		return fmt.Errorf("a footer of %d bytes does not fit in a file of %d bytes", n, size)
	}
	footer := make([]byte, n)
	if _, err := r.ReadAt(footer, size-8-n); err != nil {
		return fmt.Errorf("reading the footer: %w", err)
	}
	c := thriftCheck{b: footer}
	if err := c.structure(0); err != nil {
		return fmt.Errorf("metadata at byte %d of the footer: %w", c.off, err)
	}
	return nil
}

// maxPageSize bounds the uncompressed size of one page, which the Parquet
// library allocates before it decompresses: writers cut pages at about
// 1 MiB.
const maxPageSize = 256 << 20

// checkParquetPages walks the page headers of every column chunk the
// footer lists and checks them as checkParquetFooter checks the footer:
// every declared length within the chunk, each page inside its chunk and
// no page larger than maxPageSize once decompressed.
func checkParquetPages(r io.ReaderAt, size int64, md *format.FileMetaData) error {
	for g, rg := range md.RowGroups {
		for j, cc := range rg.Columns {
			m := &cc.MetaData
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
				start = m.DictionaryPageOffset
			}
			if start < 4 || m.TotalCompressedSize < 0 || m.TotalCompressedSize > size-start-8 {
				return fmt.Errorf("row group %d, column %d: chunk of %d bytes at %d outside the file", g+1, j+1, m.TotalCompressedSize, start)
			}
			chunk := make([]byte, m.TotalCompressedSize)
			if _, err := r.ReadAt(chunk, start); err != nil {
				return fmt.Errorf("row group %d, column %d: %w", g+1, j+1, err)
			}
			for off := 0; off < len(chunk); {
				c := thriftCheck{b: chunk[off:]}
				if err := c.structure(0); err != nil {
					return fmt.Errorf("row group %d, column %d: page header at byte %d: %w", g+1, j+1, start+int64(off), err)
				}
				uncompressed, compressed := c.top[2], c.top[3]
				if compressed < 0 || compressed > int64(len(chunk)-off-c.off) || uncompressed < 0 || uncompressed > maxPageSize {
					return fmt.Errorf("row group %d, column %d: page at byte %d declares %d bytes (%d uncompressed) with %d left",
						g+1, j+1, start+int64(off), compressed, uncompressed, len(chunk)-off-c.off)
				}
				off += c.off + int(compressed)
			}
		}
	}
	return nil
}

// thriftMaxDepth bounds the nesting of structures and containers; Parquet's
// metadata nests a few levels deep.
const thriftMaxDepth = 64

// Thrift compact protocol types.
const (
	tcTrue   = 1
	tcFalse  = 2
	tcByte   = 3
	tcI16    = 4
	tcI32    = 5
	tcI64    = 6
	tcDouble = 7
	tcBinary = 8
	tcList   = 9
	tcSet    = 10
	tcMap    = 11
	tcStruct = 12
)

// errThriftTruncated marks metadata that ends inside a value.
var errThriftTruncated = errors.New("truncated")

// thriftCheck walks Thrift compact protocol bytes.
type thriftCheck struct {
	b   []byte
	off int
	// top holds the values of the i32 fields 1 to 3 of the outer structure
	// (a page header's type, uncompressed and compressed sizes).
	top [4]int64
}

func (c *thriftCheck) byte() (byte, error) {
	if c.off >= len(c.b) {
		return 0, errThriftTruncated
	}
	v := c.b[c.off]
	c.off++
	return v, nil
}

func (c *thriftCheck) varint() (uint64, error) {
	v, k := binary.Uvarint(c.b[c.off:])
	if k <= 0 {
		return 0, errThriftTruncated
	}
	c.off += k
	return v, nil
}

// count reads a declared length and checks that many elements of at least
// minSize bytes each fit in what remains.
func (c *thriftCheck) count(n uint64, minSize int) (int, error) {
	if rest := uint64(len(c.b) - c.off); n > rest/uint64(minSize) {
		return 0, fmt.Errorf("declares %d elements with %d bytes left", n, rest)
	}
	return int(n), nil
}

func (c *thriftCheck) structure(depth int) error {
	if depth > thriftMaxDepth {
		return errors.New("nested too deeply")
	}
	var id int64
	for {
		h, err := c.byte()
		if err != nil {
			return err
		}
		typ := h & 0x0f
		if typ == 0 {
			return nil // stop
		}
		if delta := int64(h >> 4); delta != 0 {
			id += delta
		} else { // the field id follows as a zigzag varint
			v, err := c.varint()
			if err != nil {
				return err
			}
			id = int64(v>>1) ^ -int64(v&1)
		}
		if typ == tcTrue || typ == tcFalse {
			continue
		}
		if depth == 0 && typ == tcI32 && id >= 1 && id < int64(len(c.top)) {
			v, err := c.varint()
			if err != nil {
				return err
			}
			c.top[id] = int64(v>>1) ^ -int64(v&1)
			continue
		}
		if err := c.value(typ, depth); err != nil {
			return err
		}
	}
}

func (c *thriftCheck) value(typ byte, depth int) error {
	switch typ {
	case tcTrue, tcFalse, tcByte: // a bool in a container takes one byte
		_, err := c.byte()
		return err
	case tcI16, tcI32, tcI64:
		_, err := c.varint()
		return err
	case tcDouble:
		if len(c.b)-c.off < 8 {
			return errThriftTruncated
		}
		c.off += 8
		return nil
	case tcBinary:
		n, err := c.varint()
		if err != nil {
			return err
		}
		k, err := c.count(n, 1)
		if err != nil {
			return err
		}
		c.off += k
		return nil
	case tcList, tcSet:
		h, err := c.byte()
		if err != nil {
			return err
		}
		n := uint64(h >> 4)
		if n == 15 {
			if n, err = c.varint(); err != nil {
				return err
			}
		}
		k, err := c.count(n, 1)
		if err != nil {
			return err
		}
		for range k {
			if err := c.value(h&0x0f, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tcMap:
		n, err := c.varint()
		if err != nil || n == 0 {
			return err
		}
		kv, err := c.byte()
		if err != nil {
			return err
		}
		k, err := c.count(n, 2)
		if err != nil {
			return err
		}
		for range k {
			if err := c.value(kv>>4, depth+1); err != nil {
				return err
			}
			if err := c.value(kv&0x0f, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tcStruct:
		return c.structure(depth + 1)
	}
	return fmt.Errorf("unknown type %d", typ)
}
