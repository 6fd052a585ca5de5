package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// The generator keeps its own copy of the schema shape rather than importing
// package ir, so that it builds even while ir's generated table does not.

type param struct {
	name, typ   string
	option      string // "ParamSingle", "ParamOptional", "ParamVariadic"
	diff        string // "DiffUnknown", "Differentiable", "NonDifferentiable"
	homogeneous bool
	minArity    int
}

type attr struct {
	name     string
	typ      string // ir.AttrType constant name, e.g. "AttrInts"
	required bool
	hasDef   bool
	def      any // int64, float32, string, []int64, []float32, []string
}

type constraint struct {
	param   string
	allowed []string
	doc     string
}

type schema struct {
	domain, op  string
	since       int
	deprecated  bool
	inputs      []param
	outputs     []param
	attrs       []attr
	constraints []constraint

	minIn, maxIn, minOut, maxOut int
	// ranges stated by the section headings, -1 when absent
	hdrIn, hdrOut [2]int
	line          int
}

const unbounded = 1<<31 - 1

var (
	reSchema  = regexp.MustCompile(`^### <a name="([^"]+)-(\d+)"></a>\*\*[^*]+\*\*( \(deprecated\))?</a>$`)
	reSection = regexp.MustCompile(`^#### (Inputs|Outputs)(?: \((\d+) - (\d+|&#8734;)\))?$`)
	reParam   = regexp.MustCompile(`^<dt><tt>([^<]+)</tt>(?: \(([^)]*)\))? : (.+)</dt>$`)
	reAttr    = regexp.MustCompile(`^<dt><tt>([^<]+)</tt> : ([a-z_ ]+?)(?: \((default is (.*)|required)\))?</dt>$`)
	reConstr  = regexp.MustCompile(`^<dt><tt>([^<]+)</tt> : (.+)</dt>$`)
	reSince   = regexp.MustCompile(`(available|deprecated) since version (\d+) of`)
)

// parser reads one Changelog file into schemas.
type parser struct {
	domain  string
	cur     *schema
	section string // "version", "attrs", "inputs", "outputs", "types" or ""
	inDD    bool
	dd      []string
	out     []*schema
	lineNo  int
}

// parseChangelog reads the operator sections of a Changelog.md. domain is
// the domain assumed until a "# <domain>" heading names another.
func parseChangelog(r io.Reader, domain string) ([]*schema, error) {
	p := &parser{domain: domain}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		p.lineNo++
		if err := p.line(sc.Text()); err != nil {
			return nil, fmt.Errorf("line %d: %w", p.lineNo, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.out, nil
}

func (p *parser) line(l string) error {
	if p.inDD {
		p.dd = append(p.dd, l)
		if strings.HasSuffix(l, "</dd>") {
			p.endDD()
		}
		return nil
	}
	switch {
	case strings.HasPrefix(l, "# "):
		return p.startDomain(l)
	case strings.HasPrefix(l, "### "):
		return p.startSchema(l)
	case strings.HasPrefix(l, "#### "):
		return p.startSection(l)
	case p.cur == nil:
		return nil
	case p.section == "version":
		return p.version(l)
	case strings.HasPrefix(l, "<dt>"):
		return p.dt(l)
	case strings.HasPrefix(l, "<dd>"):
		p.inDD = true
		p.dd = append(p.dd[:0], l)
		if strings.HasSuffix(l, "</dd>") {
			p.endDD()
		}
	}
	return nil
}

func (p *parser) startDomain(l string) error {
	if err := p.finish(); err != nil {
		return err
	}
	name := strings.TrimSuffix(strings.TrimSpace(l[2:]), " (default)")
	if name == "ai.onnx" {
		name = ""
	}
	p.domain = name
	return nil
}

func (p *parser) startSchema(l string) error {
	if err := p.finish(); err != nil {
		return err
	}
	m := reSchema.FindStringSubmatch(l)
	if m == nil {
		return fmt.Errorf("unrecognized operator heading %q", l)
	}
	since, _ := strconv.Atoi(m[2])
	op := m[1]
	if p.domain != "" {
		op = strings.TrimPrefix(op, p.domain+".")
	}
	if strings.Contains(op, ".") {
		return fmt.Errorf("operator %q outside its domain heading", m[1])
	}
	p.cur = &schema{domain: p.domain, op: op, since: since, deprecated: m[3] != "",
		hdrIn: [2]int{-1, -1}, hdrOut: [2]int{-1, -1}, line: p.lineNo}
	p.section = ""
	return nil
}

func (p *parser) startSection(l string) error {
	if p.cur == nil {
		return nil
	}
	switch l {
	case "#### Version":
		p.section = "version"
		return nil
	case "#### Attributes":
		p.section = "attrs"
		return nil
	case "#### Type Constraints":
		p.section = "types"
		return nil
	}
	m := reSection.FindStringSubmatch(l)
	if m == nil {
		p.section = "" // a section the schema does not need
		return nil
	}
	rng := [2]int{-1, -1}
	if m[2] != "" {
		rng[0], _ = strconv.Atoi(m[2])
		rng[1] = unbounded
		if m[3] != "&#8734;" {
			rng[1], _ = strconv.Atoi(m[3])
		}
	}
	if m[1] == "Inputs" {
		p.section, p.cur.hdrIn = "inputs", rng
	} else {
		p.section, p.cur.hdrOut = "outputs", rng
	}
	return nil
}

func (p *parser) version(l string) error {
	l = strings.TrimSpace(l)
	if l == "" {
		return nil
	}
	p.section = ""
	if strings.HasPrefix(l, "No versioning maintained") {
		return nil // experimental: the heading's number stands
	}
	m := reSince.FindStringSubmatch(l)
	if m == nil {
		return fmt.Errorf("%s-%d: unrecognized version line %q", p.cur.op, p.cur.since, l)
	}
	v, _ := strconv.Atoi(m[2])
	if v != p.cur.since || (m[1] == "deprecated") != p.cur.deprecated {
		return fmt.Errorf("%s-%d: version line %q disagrees with the heading", p.cur.op, p.cur.since, l)
	}
	return nil
}

func (p *parser) dt(l string) error {
	s := p.cur
	switch p.section {
	case "inputs", "outputs":
		pr, err := parseParam(l)
		if err != nil {
			return fmt.Errorf("%s-%d: %w", s.op, s.since, err)
		}
		if p.section == "inputs" {
			s.inputs = append(s.inputs, pr)
		} else {
			s.outputs = append(s.outputs, pr)
		}
	case "attrs":
		a, err := parseAttr(l)
		if err != nil {
			return fmt.Errorf("%s-%d: %w", s.op, s.since, err)
		}
		s.attrs = append(s.attrs, a)
	case "types":
		m := reConstr.FindStringSubmatch(l)
		if m == nil {
			return fmt.Errorf("%s-%d: unrecognized type constraint %q", s.op, s.since, l)
		}
		s.constraints = append(s.constraints, constraint{param: m[1], allowed: splitTypes(m[2])})
	}
	return nil
}

// endDD attaches a finished <dd> to the type constraint it describes.
func (p *parser) endDD() {
	p.inDD = false
	if p.section != "types" || p.cur == nil || len(p.cur.constraints) == 0 {
		return
	}
	c := &p.cur.constraints[len(p.cur.constraints)-1]
	text := strings.Join(p.dd, "\n")
	text = strings.TrimSuffix(strings.TrimPrefix(text, "<dd>"), "</dd>")
	c.doc = strings.TrimSpace(text)
}

// finish completes the schema being read: it works out the arities and checks
// them against the ranges the section headings state.
func (p *parser) finish() error {
	s := p.cur
	p.cur, p.section = nil, ""
	if s == nil {
		return nil
	}
	var err error
	if s.minIn, s.maxIn, err = arity(s.inputs, s.hdrIn); err != nil {
		return fmt.Errorf("%s-%d inputs: %w", s.op, s.since, err)
	}
	if s.minOut, s.maxOut, err = arity(s.outputs, s.hdrOut); err != nil {
		return fmt.Errorf("%s-%d outputs: %w", s.op, s.since, err)
	}
	p.out = append(p.out, s)
	return nil
}

// arity follows ONNX's OpSchema: a single parameter raises the minimum to
// its position, an optional one only the maximum, and a trailing variadic
// adds its MinArity (which only the heading's range tells) and no maximum.
func arity(ps []param, hdr [2]int) (lo, hi int, err error) {
	for i := range ps {
		switch ps[i].option {
		case "ParamSingle":
			hi++
			lo = hi
		case "ParamOptional":
			hi++
		case "ParamVariadic":
			if i != len(ps)-1 {
				return 0, 0, fmt.Errorf("variadic %q is not last", ps[i].name)
			}
			if hdr[0] < 0 || hdr[0] < hi {
				return 0, 0, fmt.Errorf("variadic %q without a usable range %v", ps[i].name, hdr)
			}
			ps[i].minArity = hdr[0] - hi
			lo, hi = hdr[0], unbounded
		}
	}
	if hdr[0] < 0 {
		hdr = [2]int{hi, hi}
	}
	if lo != hdr[0] || hi != hdr[1] {
		return 0, 0, fmt.Errorf("parameters give %d-%d, heading says %d-%d", lo, hi, hdr[0], hdr[1])
	}
	return lo, hi, nil
}

// inheritDeprecated gives a deprecated schema the spec prints without a
// signature the signature of the version before it (or after, if none).
func inheritDeprecated(all []*schema) {
	for _, s := range all {
		if !s.deprecated || len(s.inputs)+len(s.outputs)+len(s.attrs) > 0 {
			continue
		}
		var before, after *schema
		for _, o := range all {
			if o == s || o.domain != s.domain || o.op != s.op || o.deprecated {
				continue
			}
			if o.since < s.since && (before == nil || o.since > before.since) {
				before = o
			}
			if o.since > s.since && (after == nil || o.since < after.since) {
				after = o
			}
		}
		src := before
		if src == nil {
			src = after
		}
		if src == nil {
			continue
		}
		s.inputs, s.outputs, s.attrs, s.constraints = src.inputs, src.outputs, src.attrs, src.constraints
		s.minIn, s.maxIn, s.minOut, s.maxOut = src.minIn, src.maxIn, src.minOut, src.maxOut
	}
}
