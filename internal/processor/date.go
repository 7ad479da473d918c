package processor

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // source_timezone / destination_timezone work without the host's zoneinfo (distroless)
)

// dateProc is date: parse the value of match.key with the first of
// match.patterns that fits and write it to destination in output_format.
type dateProc struct {
	key      key
	patterns []datePattern
	dest     key
	output   string // "epoch_*" or a Go layout
	srcTZ    *time.Location
	dstTZ    *time.Location
	when     condition
}

type datePattern struct {
	raw    string
	epoch  bool
	layout javaLayout
}

const defaultDateOutput = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"

func buildDate(o *opts) processor {
	o.known([]string{"match", "destination", "output_format", "source_timezone", "destination_timezone", "locale", "date_when", "to_origination_metadata"},
		map[string]string{"from_time_received": "the time ddbsync reads an item differs between run and verify, so documents would never compare equal; use match on an attribute, or add_entries with ${getMetadata(\"dynamodb_timestamp\")}"})
	p := &dateProc{srcTZ: time.UTC, dstTZ: time.UTC, when: o.cond("date_when", false)}
	p.dest = key{raw: "@timestamp", toks: []string{"@timestamp"}}
	if o.has("destination") {
		if k, ok := o.keyOpt("destination", true); ok {
			p.dest = k
		}
	}
	if o.boolean("to_origination_metadata", false) {
		o.add("to_origination_metadata", "not supported: ddbsync's event metadata is fixed")
	}
	out := defaultDateOutput
	if o.has("output_format") {
		out = o.str("output_format", true)
	}
	if isEpoch(out) {
		p.output = out
	} else if l, err := parseJavaPattern(out); err != nil {
		o.add("output_format", err.Error())
	} else {
		p.output = l.layout
	}
	for _, tz := range []struct {
		k   string
		dst **time.Location
	}{{"source_timezone", &p.srcTZ}, {"destination_timezone", &p.dstTZ}} {
		if s := o.str(tz.k, false); s != "" {
			loc, err := time.LoadLocation(s)
			if err != nil {
				o.add(tz.k, fmt.Sprintf("unknown time zone %q (expected an IANA name such as UTC or Europe/Paris)", s))
				continue
			}
			*tz.dst = loc
		}
	}
	if l := o.str("locale", false); l != "" && !englishLocale(l) {
		o.add("locale", fmt.Sprintf("unsupported locale %q (ddbsync parses English month and day names: en, en_US, en-US or ROOT)", l))
	}
	p.match(o)
	return p
}

func englishLocale(l string) bool {
	switch strings.ToLower(strings.ReplaceAll(l, "-", "_")) {
	case "en", "en_us", "en_gb", "root":
		return true
	}
	return false
}

// match reads `match: [{key, patterns}]`; Data Prepper allows one entry.
func (p *dateProc) match(o *opts) {
	v, ok := o.m["match"]
	if !ok || v == nil {
		o.add("match", "missing required option (expected match: [{key: ..., patterns: [...]}])")
		return
	}
	n := 0
	o.entries("match", func(e *opts) {
		n++
		if n > 1 {
			e.add("", "only one match entry is allowed")
			return
		}
		e.known([]string{"key", "patterns"}, nil)
		p.key, _ = e.keyOpt("key", true)
		for i, s := range e.keyListRaw("patterns") {
			if isEpoch(s) {
				p.patterns = append(p.patterns, datePattern{raw: s, epoch: true})
				continue
			}
			l, err := parseJavaPattern(s)
			if err != nil {
				e.add(fmt.Sprintf("patterns[%d]", i), err.Error())
				continue
			}
			p.patterns = append(p.patterns, datePattern{raw: s, layout: l})
		}
		if !e.has("patterns") || len(p.patterns) == 0 && len(e.root().probs) == 0 {
			e.add("patterns", "missing required option (expected a list of date patterns)")
		}
	})
}

func (p *dateProc) process(r *record) (bool, error) {
	ok, err := r.when(p.when)
	if err != nil || !ok {
		return false, wrapWhen("date_when", err)
	}
	v, ok := get(r.doc, p.key)
	if !ok || v == nil {
		return false, nil
	}
	t, err := p.parse(v, r)
	if err != nil {
		return false, err
	}
	var out any
	t = t.In(p.dstTZ)
	switch p.output {
	case epochSecond:
		out = json.Number(strconv.FormatInt(t.Unix(), 10))
	case epochMilli:
		out = json.Number(strconv.FormatInt(t.UnixMilli(), 10))
	case epochMicro:
		out = json.Number(strconv.FormatInt(t.UnixMicro(), 10))
	case epochNano:
		out = json.Number(strconv.FormatInt(t.UnixNano(), 10))
	default:
		out = t.Format(p.output)
	}
	return false, set(r.doc, p.dest, out)
}

// parse tries each pattern in order.
func (p *dateProc) parse(v any, r *record) (time.Time, error) {
	text, _ := textOf(v)
	for _, pt := range p.patterns {
		if pt.epoch {
			if t, ok := parseEpoch(text, pt.raw); ok {
				return t, nil
			}
			continue
		}
		if _, isStr := v.(string); !isStr {
			continue
		}
		t, err := time.ParseInLocation(pt.layout.layout, text, p.srcTZ)
		if err != nil {
			continue
		}
		if !pt.layout.hasYear { // like Data Prepper: the current year, here the event's
			t = t.AddDate(r.ev.Time().In(p.srcTZ).Year(), 0, 0)
		}
		return t, nil
	}
	names := make([]string, len(p.patterns))
	for i, pt := range p.patterns {
		names[i] = strconv.Quote(pt.raw)
	}
	return time.Time{}, fmt.Errorf("%s %s matches none of the patterns %s", p.key, describe(v), strings.Join(names, ", "))
}

func parseEpoch(s, unit string) (time.Time, bool) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return time.Time{}, false
	}
	scale := map[string]int64{epochSecond: 1e9, epochMilli: 1e6, epochMicro: 1e3, epochNano: 1}[unit]
	ns := new(big.Rat).Mul(r, new(big.Rat).SetInt64(scale))
	n := new(big.Int).Quo(ns.Num(), ns.Denom())
	if !n.IsInt64() {
		return time.Time{}, false
	}
	return time.Unix(0, n.Int64()).UTC(), true
}
