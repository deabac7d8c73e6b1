package runtime

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"
)

// TensorRef is a named float32 tensor as stored in a checkpoint. Data holds
// the elements in row-major order; its length is the product of Shape (1
// for a scalar, whose Shape is empty).
type TensorRef struct {
	Name  string
	Shape []int
	Data  []float32
}

// Safetensors format limits. The header cap matches the reference
// implementation (huggingface/safetensors rejects headers over 100 MB), and
// protects readers from allocating for a corrupt length prefix.
const (
	stMaxHeader    = 100 << 20
	stMetadataKey  = "__metadata__"
	stReadChunk    = 1 << 16                   // bytes decoded at a time while reading tensor data
	stMaxElements  = min(1<<50, math.MaxInt/4) // sanity bound on a tensor's element count (its bytes fit an int)
	stHeaderAlign  = 8                         // header is space-padded so data starts 8-aligned
	stLengthPrefix = 8
)

// WriteSafetensors writes tensors in the safetensors format
// (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header padded with spaces to a multiple of 8 bytes,
// then the little-endian F32 data. The output is deterministic: tensors are
// laid out in the data buffer sorted by name and all JSON object keys are
// sorted, so identical inputs give identical bytes. metadata may be nil; an
// empty map is written as no metadata.
//
// Names may be any non-empty valid UTF-8 string other than "__metadata__";
// they are JSON-escaped. len(Data) must equal the product of Shape.
func WriteSafetensors(w io.Writer, tensors []TensorRef, metadata map[string]string) error {
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return tensors[order[i]].Name < tensors[order[j]].Name })
	for i, ti := range order {
		t := &tensors[ti]
		switch {
		case t.Name == "":
			return errors.New("safetensors: tensor with empty name")
		case t.Name == stMetadataKey:
			return fmt.Errorf("safetensors: tensor name %q is reserved", t.Name)
		case !utf8.ValidString(t.Name):
			return fmt.Errorf("safetensors: tensor name %q is not valid UTF-8", t.Name)
		case i > 0 && tensors[order[i-1]].Name == t.Name:
			return fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		n, err := shapeElements(t.Shape)
		if err != nil {
			return fmt.Errorf("safetensors: tensor %q: %v", t.Name, err)
		}
		if n != len(t.Data) {
			return fmt.Errorf("safetensors: tensor %q: shape %v has %d elements but Data has %d", t.Name, t.Shape, n, len(t.Data))
		}
	}
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("safetensors: metadata entry %q is not valid UTF-8", k)
		}
	}

	// Build the header by hand so that the key order is explicit: sorted
	// byte-wise, with "__metadata__" in its sorted place.
	type entry struct {
		key  string
		json []byte
	}
	entries := make([]entry, 0, len(tensors)+1)
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b bytes.Buffer
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(jsonString(k))
			b.WriteByte(':')
			b.Write(jsonString(metadata[k]))
		}
		b.WriteByte('}')
		entries = append(entries, entry{stMetadataKey, b.Bytes()})
	}
	var offset int64
	for _, ti := range order {
		t := &tensors[ti]
		end := offset + 4*int64(len(t.Data))
		b := []byte(`{"data_offsets":[`)
		b = strconv.AppendInt(b, offset, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, end, 10)
		b = append(b, `],"dtype":"F32","shape":[`...)
		for i, d := range t.Shape {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(d), 10)
		}
		b = append(b, "]}"...)
		entries = append(entries, entry{t.Name, b})
		offset = end
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			hdr.WriteByte(',')
		}
		hdr.Write(jsonString(e.key))
		hdr.WriteByte(':')
		hdr.Write(e.json)
	}
	hdr.WriteByte('}')
	for hdr.Len()%stHeaderAlign != 0 {
		hdr.WriteByte(' ')
	}
	if hdr.Len() > stMaxHeader {
		return fmt.Errorf("safetensors: header of %d bytes exceeds the %d byte limit", hdr.Len(), stMaxHeader)
	}

	bw := bufio.NewWriterSize(w, stReadChunk)
	var prefix [stLengthPrefix]byte
	binary.LittleEndian.PutUint64(prefix[:], uint64(hdr.Len()))
	bw.Write(prefix[:])
	bw.Write(hdr.Bytes())
	var buf [4]byte
	for _, ti := range order {
		for _, v := range tensors[ti].Data {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			if _, err := bw.Write(buf[:]); err != nil {
				return fmt.Errorf("safetensors: write: %w", err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

// jsonString returns s as a JSON string literal. HTML escaping is turned
// off so that names such as "a<b" stay readable; the result is valid JSON
// either way.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // cannot fail for a string
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// shapeElements returns the number of elements of shape, rejecting negative
// dimensions and absurd sizes (which also rules out overflow).
func shapeElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > stMaxElements/d {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= d
	}
	return n, nil
}

// stEntry is one tensor of a parsed safetensors header.
type stEntry struct {
	name       string
	dtype      string
	elemSize   int
	shape      []int
	begin, end int64
}

// stHeader is the parsed and validated header of a safetensors stream.
type stHeader struct {
	entries  []stEntry // sorted by begin offset; contiguous from 0
	metadata map[string]string
}

// stDtypeSize maps the supported dtypes to their element size in bytes.
var stDtypeSize = map[string]int{"F32": 4, "F64": 8, "F16": 2, "BF16": 2}

// readSafetensorsHeader reads the length prefix and JSON header from r and
// validates it against the format's rules: the header is a JSON object,
// every tensor has a supported dtype, a valid shape and offsets whose length
// matches the shape, and the tensors tile the data buffer exactly (no
// overlaps and no holes, as the reference implementation requires).
func readSafetensorsHeader(r io.Reader) (*stHeader, error) {
	var prefix [stLengthPrefix]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return nil, fmt.Errorf("safetensors: reading header length: %w", truncated(err))
	}
	n := binary.LittleEndian.Uint64(prefix[:])
	if n > stMaxHeader {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the %d byte limit", n, stMaxHeader)
	}
	// ReadAll grows with the bytes actually present, so a lying length
	// prefix cannot make us allocate 100 MB for a tiny input.
	hdr, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, fmt.Errorf("safetensors: reading header: %w", err)
	}
	if uint64(len(hdr)) != n {
		return nil, fmt.Errorf("safetensors: file truncated in header (%d of %d bytes)", len(hdr), n)
	}
	if !utf8.Valid(hdr) {
		return nil, errors.New("safetensors: header is not valid UTF-8")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, fmt.Errorf("safetensors: malformed JSON header: %v", err)
	}
	if raw == nil {
		return nil, errors.New("safetensors: malformed JSON header: not an object")
	}
	h := &stHeader{}
	for name, msg := range raw {
		if name == stMetadataKey {
			if err := json.Unmarshal(msg, &h.metadata); err != nil {
				return nil, fmt.Errorf("safetensors: malformed __metadata__ (want an object of strings): %v", err)
			}
			continue
		}
		var info struct {
			Dtype       *string `json:"dtype"`
			Shape       *[]int  `json:"shape"`
			DataOffsets *[]int  `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &info); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: malformed header entry: %v", name, err)
		}
		if info.Dtype == nil || info.Shape == nil || info.DataOffsets == nil {
			return nil, fmt.Errorf("safetensors: tensor %q: header entry needs dtype, shape and data_offsets", name)
		}
		size, ok := stDtypeSize[*info.Dtype]
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %q: unsupported dtype %q (supported: F32, F64, F16, BF16)", name, *info.Dtype)
		}
		elems, err := shapeElements(*info.Shape)
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %v", name, err)
		}
		off := *info.DataOffsets
		if len(off) != 2 || off[0] < 0 || off[1] < off[0] {
			return nil, fmt.Errorf("safetensors: tensor %q: invalid data_offsets %v", name, off)
		}
		if want := int64(elems) * int64(size); int64(off[1]-off[0]) != want {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets %v span %d bytes but %s shape %v needs %d", name, off, off[1]-off[0], *info.Dtype, *info.Shape, want)
		}
		h.entries = append(h.entries, stEntry{name: name, dtype: *info.Dtype, elemSize: size, shape: *info.Shape, begin: int64(off[0]), end: int64(off[1])})
	}
	slices.SortFunc(h.entries, func(a, b stEntry) int {
		switch {
		case a.begin != b.begin:
			if a.begin < b.begin {
				return -1
			}
			return 1
		case a.end != b.end:
			if a.end < b.end {
				return -1
			}
			return 1
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	var pos int64
	for _, e := range h.entries {
		if e.begin < pos {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d,%d] overlap another tensor", e.name, e.begin, e.end)
		}
		if e.begin > pos {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d,%d] leave a hole at byte %d of the data buffer", e.name, e.begin, e.end, pos)
		}
		pos = e.end
	}
	return h, nil
}

// truncated turns an unexpected end of input into a clear message.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("file truncated")
	}
	return err
}

// stReader streams the data buffer of a safetensors file in offset order.
type stReader struct {
	r   io.Reader
	buf []byte
}

// read decodes the bytes of e, which must be the next tensor in the
// buffer, into dst (len(dst) == elements of e), or discards them if dst is
// nil.
func (s *stReader) read(e *stEntry, dst []float32) error {
	total := e.end - e.begin
	if dst == nil {
		got, err := io.CopyN(io.Discard, s.r, total)
		if err != nil {
			return fmt.Errorf("safetensors: tensor %q: file truncated (%d of %d bytes): %w", e.name, got, total, truncated(err))
		}
		return nil
	}
	if s.buf == nil {
		s.buf = make([]byte, stReadChunk)
	}
	chunk := stReadChunk / 8 * e.elemSize // whole elements per read
	var done int64
	out := 0
	for done < total {
		b := s.buf[:min(int64(chunk), total-done)]
		if _, err := io.ReadFull(s.r, b); err != nil {
			return fmt.Errorf("safetensors: tensor %q: file truncated: %w", e.name, truncated(err))
		}
		done += int64(len(b))
		out += decodeElems(e.dtype, b, dst[out:])
	}
	return nil
}

// decodeElems converts little-endian elements of dtype in b to float32 in
// dst and returns how many were written.
func decodeElems(dtype string, b []byte, dst []float32) int {
	switch dtype {
	case "F32":
		n := len(b) / 4
		for i := range n {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return n
	case "F64":
		n := len(b) / 8
		for i := range n {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
		return n
	case "F16":
		n := len(b) / 2
		for i := range n {
			dst[i] = f16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return n
	case "BF16":
		n := len(b) / 2
		for i := range n {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
		return n
	}
	return 0
}

// f16ToF32 converts an IEEE 754 binary16 value to float32 exactly,
// including subnormals, infinities and NaNs.
func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: value = mant * 2^-24, exactly representable.
		v := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// expectEOF checks that nothing follows the data buffer: the reference
// implementation requires the buffer to be fully indexed, so trailing
// bytes indicate a corrupt or mismatched header.
func expectEOF(r io.Reader) error {
	var b [1]byte
	n, err := io.ReadFull(r, b[:])
	if n > 0 {
		return errors.New("safetensors: unexpected data after the last tensor")
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("safetensors: read: %w", err)
	}
	return nil
}

// ReadSafetensors reads a whole safetensors stream and returns its tensors
// (in data-buffer order) converted to float32, and its metadata (nil if
// none). F32, F64, F16 and BF16 tensors are supported. Memory is allocated
// as data arrives, so a corrupt header cannot cause a huge allocation.
func ReadSafetensors(r io.Reader) ([]TensorRef, map[string]string, error) {
	h, err := readSafetensorsHeader(r)
	if err != nil {
		return nil, nil, err
	}
	s := &stReader{r: r}
	out := make([]TensorRef, 0, len(h.entries))
	for i := range h.entries {
		e := &h.entries[i]
		n := int((e.end - e.begin) / int64(e.elemSize))
		// Grow the tensor chunk by chunk rather than trusting n.
		data := make([]float32, 0, min(n, stReadChunk))
		for len(data) < n {
			k := min(n-len(data), max(len(data), stReadChunk))
			start := len(data)
			data = slices.Grow(data, k)[:start+k]
			sub := stEntry{name: e.name, dtype: e.dtype, elemSize: e.elemSize,
				begin: 0, end: int64(k * e.elemSize)}
			if err := s.read(&sub, data[start:]); err != nil {
				return nil, nil, err
			}
		}
		out = append(out, TensorRef{Name: e.name, Shape: slices.Clone(e.shape), Data: data})
	}
	if err := expectEOF(r); err != nil {
		return nil, nil, err
	}
	if out == nil {
		out = []TensorRef{}
	}
	return out, h.metadata, nil
}

// ReadSafetensorsMetadata reads only the header of a safetensors stream and
// returns its metadata (nil if none), after the same validation as
// ReadSafetensors gives the header.
func ReadSafetensorsMetadata(r io.Reader) (map[string]string, error) {
	h, err := readSafetensorsHeader(r)
	if err != nil {
		return nil, err
	}
	return h.metadata, nil
}

// ReadSafetensorsInto reads a safetensors stream into the preallocated
// tensors dst, matched by name; each dst[i].Data must already have the
// length implied by dst[i].Shape. Tensors in the file that are not in dst
// are skipped. It fails, naming the tensor, if one of dst is missing from
// the file or has a different shape, or if the file is malformed: bad or
// oversized header, unsupported dtype, offsets out of range, overlapping
// or leaving holes, or truncated data. On error dst may be partly filled.
func ReadSafetensorsInto(r io.Reader, dst []TensorRef) error {
	want := make(map[string]int, len(dst))
	for i, t := range dst {
		if _, dup := want[t.Name]; dup {
			return fmt.Errorf("safetensors: duplicate destination tensor %q", t.Name)
		}
		n, err := shapeElements(t.Shape)
		if err != nil {
			return fmt.Errorf("safetensors: destination tensor %q: %v", t.Name, err)
		}
		if n != len(t.Data) {
			return fmt.Errorf("safetensors: destination tensor %q: shape %v has %d elements but Data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		want[t.Name] = i
	}
	h, err := readSafetensorsHeader(r)
	if err != nil {
		return err
	}
	found := make([]bool, len(dst))
	for _, e := range h.entries {
		if i, ok := want[e.name]; ok {
			if !slices.Equal(e.shape, dst[i].Shape) {
				return fmt.Errorf("safetensors: tensor %q has shape %v in the file but %v is expected", e.name, e.shape, dst[i].Shape)
			}
			found[i] = true
		}
	}
	for i, ok := range found {
		if !ok {
			return fmt.Errorf("safetensors: tensor %q is missing from the file", dst[i].Name)
		}
	}
	s := &stReader{r: r}
	for i := range h.entries {
		e := &h.entries[i]
		var d []float32
		if j, ok := want[e.name]; ok {
			d = dst[j].Data
		}
		if err := s.read(e, d); err != nil {
			return err
		}
	}
	return expectEOF(r)
}
