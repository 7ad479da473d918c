package processor

import (
	"fmt"
	"strings"
)

// Epoch patterns Data Prepper's date processor accepts besides
// DateTimeFormatter patterns.
const (
	epochSecond = "epoch_second"
	epochMilli  = "epoch_milli"
	epochMicro  = "epoch_micro"
	epochNano   = "epoch_nano"
)

func isEpoch(p string) bool {
	return p == epochSecond || p == epochMilli || p == epochMicro || p == epochNano
}

// javaLayout is a Java DateTimeFormatter pattern translated to a Go layout.
type javaLayout struct {
	layout  string
	hasYear bool
	hasZone bool
}

// javaLetters maps runs of one pattern letter to Go layout elements.
var javaLetters = map[string]string{
	"yyyy": "2006", "uuuu": "2006", "yy": "06", "uu": "06",
	"MMMM": "January", "MMM": "Jan", "MM": "01", "M": "1",
	"dd": "02", "d": "2",
	"EEEE": "Monday", "EEE": "Mon", "E": "Mon",
	"HH": "15", "H": "15", "hh": "03", "h": "3",
	"mm": "04", "m": "4", "ss": "05", "s": "5",
	"a":   "PM",
	"XXX": "Z07:00", "XX": "Z0700", "X": "Z07", "xxx": "-07:00", "xx": "-0700", "x": "-07",
	"Z": "-0700", "ZZ": "-0700", "ZZZ": "-0700", "ZZZZZ": "Z07:00",
	"z": "MST", "zzz": "MST",
}

// parseJavaPattern translates a DateTimeFormatter pattern: the letters
// above, fractions of a second (S…, after '.' or ','), 'quoted' literals
// and punctuation.
func parseJavaPattern(p string) (javaLayout, error) {
	var out javaLayout
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			j := i + 1
			for j < len(p) {
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(p[j])
				j++
			}
			if j >= len(p) {
				if j == i+1 {
					return out, fmt.Errorf("unclosed quote in date pattern %q", p)
				}
				return out, fmt.Errorf("unclosed quote in date pattern %q", p)
			}
			if j == i+1 {
				b.WriteByte('\'') // '' is a quote
			}
			i = j + 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			run := p[i:j]
			if c == 'S' {
				s := b.String()
				if s == "" || (s[len(s)-1] != '.' && s[len(s)-1] != ',') {
					return out, fmt.Errorf("fraction of second %q must follow '.' or ',' in date pattern %q", run, p)
				}
				b.WriteString(strings.Repeat("0", len(run)))
			} else {
				g, ok := javaLetters[run]
				if !ok {
					return out, fmt.Errorf("unsupported element %q in date pattern %q (supported: yyyy yy MMMM MMM MM M dd d EEE HH H hh h mm m ss s S… a XXX XX X Z z)", run, p)
				}
				b.WriteString(g)
				out.hasYear = out.hasYear || c == 'y' || c == 'u'
				out.hasZone = out.hasZone || c == 'X' || c == 'x' || c == 'Z' || c == 'z'
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	out.layout = b.String()
	return out, nil
}
