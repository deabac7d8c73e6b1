package runtime

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func sampleTensors() []TensorRef {
	return []TensorRef{
		{Name: "dense/kernel", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, -6.5}},
		{Name: "dense/bias", Shape: []int{3}, Data: []float32{0.1, 0.2, float32(math.Inf(-1))}},
		{Name: "scalar", Shape: []int{}, Data: []float32{42}},
		{Name: "empty", Shape: []int{0, 4}, Data: []float32{}},
		{Name: "we\"ird\\name/\n\t\u00e9\u4e2d<&>", Shape: []int{1}, Data: []float32{-0}},
	}
}

func writeST(t *testing.T, ts []TensorRef, md map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts, md); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSafetensorsRoundTrip(t *testing.T) {
	ts := sampleTensors()
	md := map[string]string{"format": "pt", "dlc \"model\"": "mnist\nmlp"}
	data := writeST(t, ts, md)

	// Layout: 8-byte length, header padded to a multiple of 8, data.
	n := binary.LittleEndian.Uint64(data)
	if n%8 != 0 || int(8+n) > len(data) {
		t.Fatalf("header length %d not a multiple of 8 or too long", n)
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &hdr); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	if len(hdr) != len(ts)+1 {
		t.Fatalf("header has %d keys", len(hdr))
	}
	if got := len(data) - int(8+n); got != 4*(6+3+1+0+1) {
		t.Fatalf("data buffer is %d bytes", got)
	}

	got, gotMD, err := ReadSafetensors(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(gotMD) != 2 || gotMD["dlc \"model\""] != "mnist\nmlp" {
		t.Fatalf("metadata %v", gotMD)
	}
	// Read order is data-buffer order, which is sorted by name.
	names := make([]string, len(got))
	for i, g := range got {
		names[i] = g.Name
	}
	if !slices.IsSorted(names) {
		t.Fatalf("tensors not laid out by name: %q", names)
	}
	byName := map[string]TensorRef{}
	for _, g := range got {
		byName[g.Name] = g
	}
	for _, w := range ts {
		g, ok := byName[w.Name]
		if !ok {
			t.Fatalf("tensor %q missing after round trip", w.Name)
		}
		if !slices.Equal(g.Shape, w.Shape) || !slices.Equal(g.Data, w.Data) {
			t.Fatalf("tensor %q: got %v %v, want %v %v", w.Name, g.Shape, g.Data, w.Shape, w.Data)
		}
	}

	// ReadSafetensorsInto with a subset of tensors, in another order.
	dst := []TensorRef{
		{Name: "scalar", Shape: []int{}, Data: make([]float32, 1)},
		{Name: "dense/kernel", Shape: []int{2, 3}, Data: make([]float32, 6)},
	}
	if err := ReadSafetensorsInto(bytes.NewReader(data), dst); err != nil {
		t.Fatal(err)
	}
	if dst[0].Data[0] != 42 || !slices.Equal(dst[1].Data, ts[0].Data) {
		t.Fatalf("ReadSafetensorsInto filled %v", dst)
	}
}

func TestSafetensorsDeterministic(t *testing.T) {
	ts := sampleTensors()
	md := map[string]string{"b": "2", "a": "1", "c": "3"}
	first := writeST(t, ts, md)
	rev := slices.Clone(ts)
	slices.Reverse(rev)
	for range 5 {
		if !bytes.Equal(first, writeST(t, rev, md)) {
			t.Fatal("output depends on input order or map iteration")
		}
	}
	n := binary.LittleEndian.Uint64(first)
	hdr := string(first[8 : 8+n])
	if !strings.HasPrefix(hdr, `{"__metadata__":{"a":"1","b":"2","c":"3"},"dense/bias":{"data_offsets":[0,12],"dtype":"F32","shape":[3]}`) {
		t.Fatalf("header keys not sorted: %s", hdr)
	}
	// No metadata: key omitted entirely.
	if h := writeST(t, ts[:1], nil); strings.Contains(string(h), "__metadata__") {
		t.Fatal("nil metadata written")
	}
}

func TestWriteSafetensorsErrors(t *testing.T) {
	cases := []struct {
		ts   []TensorRef
		md   map[string]string
		want string
	}{
		{[]TensorRef{{Name: "a", Shape: []int{2}, Data: []float32{1}}}, nil, `"a": shape [2] has 2 elements but Data has 1`},
		{[]TensorRef{{Name: "a", Shape: []int{-1}, Data: nil}}, nil, "negative dimension"},
		{[]TensorRef{{Name: "a", Shape: []int{1}, Data: []float32{1}}, {Name: "a", Shape: []int{1}, Data: []float32{1}}}, nil, `duplicate tensor name "a"`},
		{[]TensorRef{{Name: "", Shape: []int{}, Data: []float32{1}}}, nil, "empty name"},
		{[]TensorRef{{Name: "__metadata__", Shape: []int{}, Data: []float32{1}}}, nil, "reserved"},
		{[]TensorRef{{Name: "bad\xff", Shape: []int{}, Data: []float32{1}}}, nil, "UTF-8"},
		{nil, map[string]string{"k": "\xfe"}, "UTF-8"},
	}
	for _, tc := range cases {
		err := WriteSafetensors(&bytes.Buffer{}, tc.ts, tc.md)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// rawST builds a safetensors file from a literal header and data.
func rawST(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestReadSafetensorsErrors(t *testing.T) {
	four := make([]byte, 4)
	eight := make([]byte, 8)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"short length", []byte{1, 2, 3}, "truncated"},
		{"huge header", binary.LittleEndian.AppendUint64(nil, 200<<20), "exceeds"},
		{"truncated header", binary.LittleEndian.AppendUint64(nil, 64), "truncated in header"},
		{"not json", rawST("{nope", nil), "malformed JSON"},
		{"array", rawST("[1,2]", nil), "malformed JSON"},
		{"null", rawST("null", nil), "not an object"},
		{"bad dtype", rawST(`{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, eight), `"x": unsupported dtype "I64"`},
		{"missing field", rawST(`{"x":{"dtype":"F32","shape":[1]}}`, four), `"x": header entry needs`},
		{"bad shape", rawST(`{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, four), "negative dimension"},
		{"size mismatch", rawST(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, four), `"x": data_offsets [0 4] span 4 bytes`},
		{"reversed offsets", rawST(`{"x":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, four), "invalid data_offsets"},
		{"overlap", rawST(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four), "overlap"},
		{"hole", rawST(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), "hole"},
		{"out of range", rawST(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, four), `"x": file truncated`},
		{"trailing", rawST(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, eight), "after the last tensor"},
		{"bad metadata", rawST(`{"__metadata__":{"a":1}}`, nil), "__metadata__"},
		{"float shape", rawST(`{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, four), `"x": malformed`},
		{"huge shape", rawST(`{"x":{"dtype":"F32","shape":[1000000000,1000000000],"data_offsets":[0,4]}}`, four), "too large"},
		{"bad utf8", rawST("{\"\xff\":1}", nil), "UTF-8"},
	}
	for _, tc := range cases {
		_, _, err := ReadSafetensors(bytes.NewReader(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ReadSafetensors error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestReadSafetensorsIntoErrors(t *testing.T) {
	data := writeST(t, sampleTensors(), nil)
	mk := func(name string, shape ...int) TensorRef {
		n, _ := shapeElements(shape)
		return TensorRef{Name: name, Shape: shape, Data: make([]float32, n)}
	}
	cases := []struct {
		name string
		dst  []TensorRef
		file []byte
		want string
	}{
		{"missing", []TensorRef{mk("dense/kernel", 2, 3), mk("nope", 1)}, data, `"nope" is missing`},
		{"shape", []TensorRef{mk("dense/kernel", 3, 2)}, data, `"dense/kernel" has shape [2 3] in the file but [3 2] is expected`},
		{"bad dst", []TensorRef{{Name: "scalar", Shape: []int{2}, Data: make([]float32, 1)}}, data, `"scalar": shape [2] has 2 elements but Data has 1`},
		{"dup dst", []TensorRef{mk("scalar"), mk("scalar")}, data, "duplicate destination"},
		{"truncated", []TensorRef{mk("scalar")}, data[:len(data)-6], "file truncated"},
		{"dtype", []TensorRef{mk("x", 1)}, rawST(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}), `"x": unsupported dtype`},
	}
	for _, tc := range cases {
		err := ReadSafetensorsInto(bytes.NewReader(tc.file), tc.dst)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestReadSafetensorsOtherDtypes checks conversion of F64, F16 and BF16,
// including F16 subnormals and specials.
func TestReadSafetensorsOtherDtypes(t *testing.T) {
	var data []byte
	for _, v := range []float64{1.5, -2.25} {
		data = binary.LittleEndian.AppendUint64(data, math.Float64bits(v))
	}
	f16 := []uint16{0x3c00, 0xc000, 0x0001, 0x7c00, 0x8000, 0x7bff, 0x3555}
	for _, h := range f16 {
		data = binary.LittleEndian.AppendUint16(data, h)
	}
	for _, h := range []uint16{0x3f80, 0xc0a0} { // bf16 1, -5
		data = binary.LittleEndian.AppendUint16(data, h)
	}
	hdr := `{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"b":{"dtype":"F16","shape":[7],"data_offsets":[16,30]},"c":{"dtype":"BF16","shape":[2],"data_offsets":[30,34]}}`
	got, _, err := ReadSafetensors(bytes.NewReader(rawST(hdr, data)))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{
		{1.5, -2.25},
		{1, -2, float32(math.Ldexp(1, -24)), float32(math.Inf(1)), float32(math.Copysign(0, -1)), 65504, 0.333251953125},
		{1, -5},
	}
	for i, w := range want {
		if !slices.Equal(got[i].Data, w) {
			t.Errorf("%s: %v, want %v", got[i].Name, got[i].Data, w)
		}
	}
	if nan := f16ToF32(0x7e00); !math.IsNaN(float64(nan)) {
		t.Errorf("f16 NaN converted to %v", nan)
	}
}

// TestReadSafetensorsLarge crosses the internal chunk size.
func TestReadSafetensorsLarge(t *testing.T) {
	big := make([]float32, 100000)
	for i := range big {
		big[i] = float32(i) * 0.5
	}
	ts := []TensorRef{{Name: "big", Shape: []int{100, 1000}, Data: big}, {Name: "z", Shape: []int{1}, Data: []float32{3}}}
	data := writeST(t, ts, nil)
	got, _, err := ReadSafetensors(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got[0].Data, big) || got[1].Data[0] != 3 {
		t.Fatal("large tensor corrupted")
	}
	dst := []TensorRef{{Name: "big", Shape: []int{100, 1000}, Data: make([]float32, 100000)}}
	if err := ReadSafetensorsInto(bytes.NewReader(data), dst); err != nil || !slices.Equal(dst[0].Data, big) {
		t.Fatalf("ReadSafetensorsInto: %v", err)
	}
}

// TestSafetensorsPythonCrossCheck has Python (standard library only) parse
// a file we wrote, as an independent reader of the format. Skipped when
// python3 is not installed.
func TestSafetensorsPythonCrossCheck(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	ts := sampleTensors()
	if err := os.WriteFile(path, writeST(t, ts, map[string]string{"k": "v"}), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
assert n % 8 == 0
h = json.loads(b[8:8+n])
buf = b[8+n:]
out = {}
end = 0
for k, v in sorted(h.items()):
    if k == '__metadata__':
        continue
    s, e = v['data_offsets']
    assert v['dtype'] == 'F32'
    vals = struct.unpack('<%df' % ((e - s) // 4), buf[s:e])
    out[k] = [v['shape'], [float(x) for x in vals]]
    end = max(end, e)
assert end == len(buf)
print(json.dumps({'meta': h.get('__metadata__'), 't': out}))
`
	outb, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, outb)
	}
	// Python's json writes -Infinity, which Go's decoder rejects; map it.
	outs := strings.ReplaceAll(string(outb), "-Infinity", `"-inf"`)
	var res struct {
		Meta map[string]string
		T    map[string][2]json.RawMessage
	}
	if err := json.Unmarshal([]byte(outs), &res); err != nil {
		t.Fatalf("decoding python output %s: %v", outb, err)
	}
	if res.Meta["k"] != "v" || len(res.T) != len(ts) {
		t.Fatalf("python saw %s", outb)
	}
	for _, w := range ts {
		pair, ok := res.T[w.Name]
		if !ok {
			t.Fatalf("python did not find tensor %q (name escaping?)", w.Name)
		}
		var shape []int
		json.Unmarshal(pair[0], &shape)
		var vals []any
		json.Unmarshal(pair[1], &vals)
		if !slices.Equal(shape, w.Shape) || len(vals) != len(w.Data) {
			t.Fatalf("python: %q shape %v with %d values", w.Name, shape, len(vals))
		}
		for i, v := range vals {
			f, isNum := v.(float64)
			if (isNum && float32(f) != w.Data[i]) || (!isNum && !math.IsInf(float64(w.Data[i]), -1)) {
				t.Fatalf("python: %q[%d] = %v, want %v", w.Name, i, v, w.Data[i])
			}
		}
	}
}

func FuzzReadSafetensors(f *testing.F) {
	var buf bytes.Buffer
	WriteSafetensors(&buf, sampleTensors(), map[string]string{"a": "b"})
	valid := buf.Bytes()
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(rawST(`{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, []byte{0, 60, 0, 124}))
	f.Add(rawST(`{"x":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]},"y":{"dtype":"F64","shape":[],"data_offsets":[2,10]}}`, make([]byte, 10)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, _, err := ReadSafetensors(bytes.NewReader(data))
		if err != nil {
			return
		}
		// A file that parses must round-trip through our writer
		// (ignoring metadata) and be readable with ReadSafetensorsInto.
		dst := make([]TensorRef, len(ts))
		for i, tr := range ts {
			dst[i] = TensorRef{Name: tr.Name, Shape: tr.Shape, Data: make([]float32, len(tr.Data))}
		}
		if err := ReadSafetensorsInto(bytes.NewReader(data), dst); err != nil {
			t.Fatalf("ReadSafetensors accepted the file but ReadSafetensorsInto failed: %v", err)
		}
		// Any parsed file must also be writable again, except that the
		// writer rejects empty names, which the format permits.
		if slices.ContainsFunc(ts, func(tr TensorRef) bool { return tr.Name == "" }) {
			return
		}
		if err := WriteSafetensors(io.Discard, ts, nil); err != nil {
			t.Fatalf("cannot rewrite parsed tensors: %v", err)
		}
	})
}
