package ir

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseError is a syntax or type error in IR text, with its position.
type ParseError struct {
	Line, Col int
	Msg       string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d:%d: %s", e.Line, e.Col, e.Msg) }

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tString
	tPunct
)

type token struct {
	kind      tokKind
	text      string // ident, number text, unquoted string, or punctuation
	line, col int
}

type lexer struct {
	src       string
	pos       int
	line, col int
}

func (l *lexer) errf(line, col int, format string, args ...any) error {
	return &ParseError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func (l *lexer) advance(n int) {
	for i := 0; i < n; i++ {
		if l.src[l.pos] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.pos++
	}
}

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			l.advance(1)
			continue
		}
		if strings.HasPrefix(l.src[l.pos:], "//") {
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.advance(1)
			}
			continue
		}
		break
	}
	tok := token{line: l.line, col: l.col}
	if l.pos >= len(l.src) {
		return tok, nil
	}
	c := l.src[l.pos]
	switch {
	case c == '_' || isLetter(c):
		start := l.pos
		for l.pos < len(l.src) && (isLetter(l.src[l.pos]) || isDigit(l.src[l.pos]) || l.src[l.pos] == '_') {
			l.advance(1)
		}
		tok.kind, tok.text = tIdent, l.src[start:l.pos]
	case isDigit(c) || ((c == '-' || c == '+') && l.pos+1 < len(l.src) && (isDigit(l.src[l.pos+1]) || l.src[l.pos+1] == '.' || l.src[l.pos+1] == 'i')):
		start := l.pos
		l.advance(1)
		for l.pos < len(l.src) {
			d := l.src[l.pos]
			if isDigit(d) || isLetter(d) || d == '.' || ((d == '-' || d == '+') && (l.src[l.pos-1] == 'e' || l.src[l.pos-1] == 'E')) {
				l.advance(1)
				continue
			}
			break
		}
		tok.kind, tok.text = tNumber, l.src[start:l.pos]
	case c == '"':
		end := l.pos + 1
		for end < len(l.src) && l.src[end] != '"' {
			if l.src[end] == '\\' {
				end++
			}
			if end < len(l.src) && l.src[end] == '\n' {
				return tok, l.errf(tok.line, tok.col, "newline in string")
			}
			end++
		}
		if end >= len(l.src) {
			return tok, l.errf(tok.line, tok.col, "unterminated string")
		}
		s, err := strconv.Unquote(l.src[l.pos : end+1])
		if err != nil {
			return tok, l.errf(tok.line, tok.col, "bad string %s", l.src[l.pos:end+1])
		}
		l.advance(end + 1 - l.pos)
		tok.kind, tok.text = tString, s
	case strings.HasPrefix(l.src[l.pos:], "->"):
		l.advance(2)
		tok.kind, tok.text = tPunct, "->"
	case strings.ContainsRune("%@=,:()[]{}<>.", rune(c)):
		l.advance(1)
		tok.kind, tok.text = tPunct, string(c)
	default:
		r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
		return tok, l.errf(tok.line, tok.col, "unexpected character %q", r)
	}
	return tok, nil
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

type parser struct {
	lex  lexer
	tok  token
	peek *token
}

func (p *parser) errf(format string, args ...any) error {
	return &ParseError{Line: p.tok.line, Col: p.tok.col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) advance() error {
	if p.peek != nil {
		p.tok, p.peek = *p.peek, nil
		return nil
	}
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) describe() string {
	switch p.tok.kind {
	case tEOF:
		return "end of input"
	case tString:
		return strconv.Quote(p.tok.text)
	}
	return fmt.Sprintf("%q", p.tok.text)
}

func (p *parser) is(punct string) bool { return p.tok.kind == tPunct && p.tok.text == punct }

func (p *parser) expect(punct string) error {
	if !p.is(punct) {
		return p.errf("expected %q, found %s", punct, p.describe())
	}
	return p.advance()
}

func (p *parser) keyword(kw string) bool { return p.tok.kind == tIdent && p.tok.text == kw }

// name reads an identifier or a quoted string.
func (p *parser) name(what string) (string, error) {
	if p.tok.kind != tIdent && p.tok.kind != tString {
		return "", p.errf("expected %s, found %s", what, p.describe())
	}
	s := p.tok.text
	return s, p.advance()
}

// ParseModule parses a module in the text form. Every node's type is
// inferred again and must equal the printed type.
func ParseModule(src string) (*Module, error) {
	p := &parser{lex: lexer{src: src, line: 1, col: 1}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if !p.keyword("module") {
		return nil, p.errf("expected \"module\", found %s", p.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	m := &Module{}
	var err error
	if m.Name, err = p.name("module name"); err != nil {
		return nil, err
	}
	for p.tok.kind != tEOF {
		switch {
		case p.keyword("weight"), p.keyword("state"):
			if err := p.parseWeight(m); err != nil {
				return nil, err
			}
		case p.keyword("func"), p.keyword("region"):
			if err := p.parseFunc(m); err != nil {
				return nil, err
			}
		default:
			return nil, p.errf("expected \"weight\", \"state\", \"func\" or \"region\", found %s", p.describe())
		}
	}
	return m, nil
}

func (p *parser) parseWeight(m *Module) error {
	w := &Weight{Trainable: p.tok.text == "weight"}
	line, col := p.tok.line, p.tok.col
	if err := p.advance(); err != nil {
		return err
	}
	var err error
	if w.Name, err = p.name("weight name"); err != nil {
		return err
	}
	if err := p.expect(":"); err != nil {
		return err
	}
	if w.Type, err = p.parseType(); err != nil {
		return err
	}
	if p.is("{") {
		attrs, err := p.parseAttrs()
		if err != nil {
			return err
		}
		if d, ok := attrs["data"]; ok {
			switch d := d.(type) {
			case []float64:
				w.Data = d
			case []int64:
				w.Data = make([]float64, len(d))
				for i, x := range d {
					w.Data[i] = float64(x)
				}
			default:
				return &ParseError{line, col, fmt.Sprintf("weight %q: data must be a number list", w.Name)}
			}
			delete(attrs, "data")
		}
		if len(attrs) > 0 {
			w.Init = attrs
		}
	}
	if err := m.AddWeight(w); err != nil {
		return &ParseError{line, col, err.Error()}
	}
	return nil
}

func (p *parser) parseFunc(m *Module) error {
	region := p.tok.text == "region"
	if err := p.advance(); err != nil {
		return err
	}
	if err := p.expect("@"); err != nil {
		return err
	}
	fname, err := p.name("function name")
	if err != nil {
		return err
	}
	if m.Func(fname) != nil {
		return p.errf("function @%s defined twice", fname)
	}
	b := NewFunc(m, fname)
	b.Fn.Region = region
	vals := map[string]*Value{}
	if err := p.expect("("); err != nil {
		return err
	}
	for !p.is(")") {
		if len(b.Fn.Params) > 0 {
			if err := p.expect(","); err != nil {
				return err
			}
		}
		if err := p.expect("%"); err != nil {
			return err
		}
		pname, err := p.name("parameter name")
		if err != nil {
			return err
		}
		if _, dup := vals[pname]; dup {
			return p.errf("parameter %%%s defined twice", pname)
		}
		if err := p.expect(":"); err != nil {
			return err
		}
		t, err := p.parseType()
		if err != nil {
			return err
		}
		vals[pname] = b.Param(pname, t)
	}
	if err := p.advance(); err != nil {
		return err
	}
	if err := p.expect("->"); err != nil {
		return err
	}
	if err := p.expect("("); err != nil {
		return err
	}
	var resultTypes []Type
	var resultNames []string
	named := false
	for !p.is(")") {
		if len(resultTypes) > 0 {
			if err := p.expect(","); err != nil {
				return err
			}
		}
		rname := ""
		if p.tok.kind == tString || (p.tok.kind == tIdent && !isDTypeName(p.tok.text)) {
			rname = p.tok.text
			named = true
			if err := p.advance(); err != nil {
				return err
			}
			if err := p.expect(":"); err != nil {
				return err
			}
		}
		t, err := p.parseType()
		if err != nil {
			return err
		}
		resultTypes = append(resultTypes, t)
		resultNames = append(resultNames, rname)
	}
	if err := p.advance(); err != nil {
		return err
	}
	if err := p.expect("{"); err != nil {
		return err
	}
	ref := func() (*Value, error) {
		if err := p.expect("%"); err != nil {
			return nil, err
		}
		line, col := p.tok.line, p.tok.col
		var n string
		if p.tok.kind == tNumber {
			n = p.tok.text
			if err := p.advance(); err != nil {
				return nil, err
			}
		} else {
			var err error
			if n, err = p.name("value name"); err != nil {
				return nil, err
			}
		}
		v, ok := vals[n]
		if !ok {
			return nil, &ParseError{line, col, fmt.Sprintf("value %%%s is not defined before this use", n)}
		}
		return v, nil
	}
	for {
		switch {
		case p.keyword("return"):
			line, col := p.tok.line, p.tok.col
			if err := p.advance(); err != nil {
				return err
			}
			var results []*Value
			for !p.is("}") {
				if len(results) > 0 {
					if err := p.expect(","); err != nil {
						return err
					}
				}
				v, err := ref()
				if err != nil {
					return err
				}
				results = append(results, v)
			}
			if len(results) != len(resultTypes) {
				return &ParseError{line, col, fmt.Sprintf("returns %d values, signature has %d", len(results), len(resultTypes))}
			}
			for i, r := range results {
				if !r.Type.Equal(resultTypes[i]) {
					return &ParseError{line, col, fmt.Sprintf("result %d has type %s, signature says %s", i, r.Type, resultTypes[i])}
				}
			}
			if !named {
				resultNames = nil
			}
			b.Return(resultNames, results...)
			return p.advance() // past "}"
		case p.keyword("update"):
			if err := p.advance(); err != nil {
				return err
			}
			line, col := p.tok.line, p.tok.col
			wname, err := p.name("weight name")
			if err != nil {
				return err
			}
			if err := p.expect("="); err != nil {
				return err
			}
			v, err := ref()
			if err != nil {
				return err
			}
			w := m.Weight(wname)
			if w == nil {
				return &ParseError{line, col, fmt.Sprintf("update of undefined weight %q", wname)}
			}
			if !w.Type.Equal(v.Type) {
				return &ParseError{line, col, fmt.Sprintf("update of %q (%s) with a value of type %s", wname, w.Type, v.Type)}
			}
			b.Update(wname, v)
		case p.is("%"):
			if err := p.advance(); err != nil {
				return err
			}
			line, col := p.tok.line, p.tok.col
			if p.tok.kind != tNumber && p.tok.kind != tIdent && p.tok.kind != tString {
				return p.errf("expected a value name, found %s", p.describe())
			}
			vname := p.tok.text
			if _, dup := vals[vname]; dup {
				return p.errf("value %%%s defined twice", vname)
			}
			if err := p.advance(); err != nil {
				return err
			}
			if err := p.expect("="); err != nil {
				return err
			}
			if p.tok.kind != tIdent {
				return p.errf("expected an op name, found %s", p.describe())
			}
			op := p.tok.text
			opLine, opCol := p.tok.line, p.tok.col
			if _, ok := LookupOp(op); !ok {
				return p.errf("unknown op %q", op)
			}
			if err := p.advance(); err != nil {
				return err
			}
			var args []*Value
			for p.is("%") {
				a, err := ref()
				if err != nil {
					return err
				}
				args = append(args, a)
				if !p.is(",") {
					break
				}
				if err := p.advance(); err != nil {
					return err
				}
			}
			var attrs Attrs
			if p.is("{") {
				if attrs, err = p.parseAttrs(); err != nil {
					return err
				}
			}
			if err := p.expect(":"); err != nil {
				return err
			}
			t, err := p.parseType()
			if err != nil {
				return err
			}
			if op == OpWeight {
				wn := attrs.String("name", "")
				w := m.Weight(wn)
				if w == nil {
					return &ParseError{opLine, opCol, fmt.Sprintf("weight %q is not defined", wn)}
				}
				if !w.Type.Equal(t) {
					return &ParseError{opLine, opCol, fmt.Sprintf("weight %q has type %s, read as %s", wn, w.Type, t)}
				}
			}
			v := b.Declared(op, attrs, t, args...)
			if err := b.Err(); err != nil {
				return &ParseError{opLine, opCol, err.Error()}
			}
			if !v.Type.Equal(t) {
				return &ParseError{line, col, fmt.Sprintf("%%%s: %s infers type %s, text says %s", vname, op, v.Type, t)}
			}
			v.Type = t
			vals[vname] = v
		default:
			return p.errf("expected a node, \"update\" or \"return\", found %s", p.describe())
		}
	}
}

func isDTypeName(s string) bool {
	_, ok := ParseDType(s)
	return ok
}

func (p *parser) parseType() (Type, error) {
	if p.is("(") {
		if err := p.advance(); err != nil {
			return Type{}, err
		}
		elems := []Type{}
		for !p.is(")") {
			if len(elems) > 0 {
				if err := p.expect(","); err != nil {
					return Type{}, err
				}
			}
			if p.is("(") {
				return Type{}, p.errf("tuples do not nest")
			}
			t, err := p.parseType()
			if err != nil {
				return Type{}, err
			}
			elems = append(elems, t)
		}
		if len(elems) == 0 {
			return Type{}, p.errf("a tuple type needs at least one element")
		}
		return Tuple(elems...), p.advance()
	}
	if p.tok.kind != tIdent {
		return Type{}, p.errf("expected a type such as f32[N,10], found %s", p.describe())
	}
	dt, ok := ParseDType(p.tok.text)
	if !ok {
		return Type{}, p.errf("unknown dtype %q", p.tok.text)
	}
	if err := p.advance(); err != nil {
		return Type{}, err
	}
	if err := p.expect("["); err != nil {
		return Type{}, err
	}
	s, err := p.parseDims("]")
	if err != nil {
		return Type{}, err
	}
	return Type{DType: dt, Shape: s}, nil
}

// parseDims reads dims up to the closing punctuation, which it consumes.
func (p *parser) parseDims(closing string) (Shape, error) {
	s := Shape{}
	for !p.is(closing) {
		if len(s) > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		switch p.tok.kind {
		case tNumber:
			n, err := strconv.ParseInt(p.tok.text, 10, 64)
			if err != nil || n < 0 {
				return nil, p.errf("bad dim %q", p.tok.text)
			}
			s = append(s, C(n))
		case tIdent:
			s = append(s, S(p.tok.text))
		default:
			return nil, p.errf("expected a dim, found %s", p.describe())
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	return s, p.advance()
}

func (p *parser) parseAttrs() (Attrs, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	attrs := Attrs{}
	for !p.is("}") {
		if len(attrs) > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		key, err := p.name("attribute name")
		if err != nil {
			return nil, err
		}
		if _, dup := attrs[key]; dup {
			return nil, p.errf("attribute %s given twice", key)
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		v, err := p.parseAttrValue()
		if err != nil {
			return nil, err
		}
		attrs[key] = v
	}
	return attrs, p.advance()
}

func (p *parser) parseAttrValue() (any, error) {
	switch {
	case p.tok.kind == tString:
		s := p.tok.text
		return s, p.advance()
	case p.tok.kind == tIdent:
		s := p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		switch s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "nan", "inf":
			return parseNumber(s)
		}
		if dt, ok := ParseDType(s); ok {
			return dt, nil
		}
		return nil, p.errf("unexpected %q in attribute value", s)
	case p.tok.kind == tNumber:
		v, err := parseNumber(p.tok.text)
		if err != nil {
			return nil, p.errf("%v", err)
		}
		return v, p.advance()
	case p.is("<"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		return p.parseDims(">")
	case p.is("["):
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.is(".") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			return []float64{}, nil
		}
		var ints []int64
		var floats []float64
		isFloat := false
		for !p.is("]") {
			if len(floats) > 0 {
				if err := p.expect(","); err != nil {
					return nil, err
				}
			}
			text := p.tok.text
			if p.tok.kind != tNumber && !(p.tok.kind == tIdent && (text == "nan" || text == "inf")) {
				return nil, p.errf("expected a number, found %s", p.describe())
			}
			v, err := parseNumber(text)
			if err != nil {
				return nil, p.errf("%v", err)
			}
			switch v := v.(type) {
			case int64:
				ints = append(ints, v)
				floats = append(floats, float64(v))
			case float64:
				isFloat = true
				ints = append(ints, 0)
				floats = append(floats, v)
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if isFloat {
			return floats, nil
		}
		if ints == nil {
			ints = []int64{}
		}
		return ints, nil
	}
	return nil, p.errf("expected an attribute value, found %s", p.describe())
}

func parseNumber(s string) (any, error) {
	switch s {
	case "nan":
		return math.NaN(), nil
	case "inf", "+inf":
		return math.Inf(1), nil
	case "-inf":
		return math.Inf(-1), nil
	}
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		return nil, fmt.Errorf("bad integer %q", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("bad number %q", s)
	}
	return f, nil
}
