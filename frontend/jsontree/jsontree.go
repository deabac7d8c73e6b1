// Package jsontree parses JSON into a tree whose every node remembers where
// it stands in the file (line and column) and its path from the root
// (layers[1].units), so that a loader can reject a document with one error
// naming the file, the position and the field. encoding/json's own errors
// name neither for most mistakes (an unknown field, a wrong value).
package jsontree

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kind is the JSON type of a node.
type Kind int

// JSON kinds.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

var kindNames = [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}

func (k Kind) String() string { return kindNames[k] }

// Node is one JSON value with its position.
type Node struct {
	Kind   Kind
	Bool   bool
	Num    json.Number
	Str    string
	Items  []*Node
	Keys   []string // object keys in document order
	Fields map[string]*Node
	Path   string // e.g. layers[1].units; "" for the root
	Line   int
	Col    int
	doc    *Doc
	used   map[string]bool
}

// Doc is a parsed document.
type Doc struct {
	File  string
	Root  *Node
	src   []byte
	lines []int64 // the offset where each line starts
}

// Error is a problem at one place of a document.
type Error struct {
	File      string
	Line, Col int
	Path      string
	Msg       string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse parses data (the contents of file) into a tree.
func Parse(file string, data []byte) (*Doc, error) {
	doc := &Doc{File: file, src: data}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p := &parser{doc: doc, dec: dec}
	root, err := p.value("")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		line, col := doc.pos(p.start())
		return nil, &Error{File: file, Line: line, Col: col, Msg: "unexpected data after the top-level value"}
	}
	doc.Root = root
	return doc, nil
}

type parser struct {
	doc  *Doc
	dec  *json.Decoder
	prev int64 // end offset of the previous token
}

// start returns the offset where the next token begins: past whitespace and
// the separators that json.Decoder consumes without returning.
func (p *parser) start() int64 {
	off := p.prev
	for off < int64(len(p.doc.src)) {
		switch p.doc.src[off] {
		case ' ', '\t', '\n', '\r', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func (d *Doc) pos(off int64) (line, col int) {
	if off > int64(len(d.src)) {
		off = int64(len(d.src))
	}
	if d.lines == nil {
		d.lines = []int64{0}
		for i, c := range d.src {
			if c == '\n' {
				d.lines = append(d.lines, int64(i)+1)
			}
		}
	}
	i := sort.Search(len(d.lines), func(i int) bool { return d.lines[i] > off }) - 1
	return i + 1, int(off-d.lines[i]) + 1
}

func (p *parser) syntaxErr(err error) error {
	off := p.start()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// se.Offset is not a file offset (json.Decoder counts only the bytes
		// of values it scanned): rescan from where the failing token starts.
		off = p.dec.InputOffset()
		var raw json.RawMessage
		var se2 *json.SyntaxError
		if errors.As(json.NewDecoder(bytes.NewReader(p.doc.src[off:])).Decode(&raw), &se2) && se2.Offset > 0 {
			off += se2.Offset - 1
		}
	}
	line, col := p.doc.pos(off)
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		msg = "unexpected end of file"
	}
	return &Error{File: p.doc.File, Line: line, Col: col, Msg: "invalid JSON: " + msg}
}

const maxDepth = 200

func (p *parser) value(path string) (*Node, error) {
	return p.valueDepth(path, 0)
}

func (p *parser) valueDepth(path string, depth int) (*Node, error) {
	if depth > maxDepth {
		line, col := p.doc.pos(p.start())
		return nil, &Error{File: p.doc.File, Line: line, Col: col, Path: path, Msg: "nesting too deep"}
	}
	off := p.start()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.syntaxErr(err)
	}
	p.prev = p.dec.InputOffset()
	n := &Node{Path: path, doc: p.doc}
	n.Line, n.Col = p.doc.pos(off)
	switch t := tok.(type) {
	case nil:
		n.Kind = Null
	case bool:
		n.Kind, n.Bool = Bool, t
	case json.Number:
		n.Kind, n.Num = Number, t
	case string:
		n.Kind, n.Str = String, t
	case json.Delim:
		switch t {
		case '[':
			n.Kind = Array
			for p.dec.More() {
				item, err := p.valueDepth(fmt.Sprintf("%s[%d]", path, len(n.Items)), depth+1)
				if err != nil {
					return nil, err
				}
				n.Items = append(n.Items, item)
			}
		case '{':
			n.Kind = Object
			n.Fields = map[string]*Node{}
			for p.dec.More() {
				koff := p.start()
				kt, err := p.dec.Token()
				if err != nil {
					return nil, p.syntaxErr(err)
				}
				p.prev = p.dec.InputOffset()
				key, _ := kt.(string)
				if _, dup := n.Fields[key]; dup {
					line, col := p.doc.pos(koff)
					return nil, &Error{File: p.doc.File, Line: line, Col: col, Path: join(path, key), Msg: "field given twice"}
				}
				v, err := p.valueDepth(join(path, key), depth+1)
				if err != nil {
					return nil, err
				}
				n.Keys = append(n.Keys, key)
				n.Fields[key] = v
			}
		default:
			return nil, p.syntaxErr(fmt.Errorf("unexpected %q", t))
		}
		if _, err := p.dec.Token(); err != nil { // the closing delimiter
			return nil, p.syntaxErr(err)
		}
		p.prev = p.dec.InputOffset()
	}
	return n, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Errorf returns an error positioned at n.
func (n *Node) Errorf(format string, args ...any) error {
	return &Error{File: n.doc.File, Line: n.Line, Col: n.Col, Path: n.Path, Msg: fmt.Sprintf(format, args...)}
}

// Get returns the field key of an object node (nil when absent or when n is
// not an object) and marks it as used.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Object {
		return nil
	}
	if n.used == nil {
		n.used = map[string]bool{}
	}
	n.used[key] = true
	return n.Fields[key]
}

// Has reports whether an object has a non-null field key.
func (n *Node) Has(key string) bool {
	f := n.Get(key)
	return f != nil && f.Kind != Null
}

// Ignore marks fields as used without reading them (bookkeeping fields).
func (n *Node) Ignore(keys ...string) {
	for _, k := range keys {
		n.Get(k)
	}
}

// CheckUnknown returns an error for the first field of an object that no
// Get asked for, listing the fields that are allowed.
func (n *Node) CheckUnknown(allowed ...string) error {
	if n == nil || n.Kind != Object {
		return nil
	}
	for _, k := range n.Keys {
		if !n.used[k] {
			f := n.Fields[k]
			msg := fmt.Sprintf("unknown field %q", k)
			if len(allowed) > 0 {
				msg += " (known fields: " + strings.Join(allowed, ", ") + ")"
			}
			return &Error{File: n.doc.File, Line: f.Line, Col: f.Col, Path: f.Path, Msg: msg}
		}
	}
	return nil
}

// Expect checks n's kind.
func (n *Node) Expect(k Kind) error {
	if n.Kind != k {
		return n.Errorf("want %s, got %s", k, n.describe())
	}
	return nil
}

func (n *Node) describe() string {
	switch n.Kind {
	case String:
		return "the string " + strconv.Quote(n.Str)
	case Number:
		return "the number " + n.Num.String()
	case Bool:
		return "the boolean " + strconv.FormatBool(n.Bool)
	}
	return n.Kind.String()
}

// AsString returns a string value.
func (n *Node) AsString() (string, error) {
	if err := n.Expect(String); err != nil {
		return "", err
	}
	return n.Str, nil
}

// AsBool returns a boolean value.
func (n *Node) AsBool() (bool, error) {
	if err := n.Expect(Bool); err != nil {
		return false, err
	}
	return n.Bool, nil
}

// AsFloat returns a number value.
func (n *Node) AsFloat() (float64, error) {
	if err := n.Expect(Number); err != nil {
		return 0, err
	}
	f, err := n.Num.Float64()
	if err != nil || math.IsInf(f, 0) {
		return 0, n.Errorf("number %s out of range", n.Num)
	}
	return f, nil
}

// AsInt returns an integer value (a number with no fraction).
func (n *Node) AsInt() (int64, error) {
	if err := n.Expect(Number); err != nil {
		return 0, n.Errorf("want an integer, got %s", n.describe())
	}
	i, err := strconv.ParseInt(n.Num.String(), 10, 64)
	if err != nil {
		f, ferr := n.Num.Float64()
		if ferr == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), nil
		}
		return 0, n.Errorf("want an integer, got %s", n.describe())
	}
	return i, nil
}
