package processor

import "strings"

// caseString is lowercase_string, uppercase_string and trim_string: change
// the string values of with_keys; other values stay.
type caseString struct {
	keys []key
	f    func(string) string
}

func buildCase(name string) func(o *opts) processor {
	return func(o *opts) processor {
		o.known([]string{"with_keys"}, nil)
		p := &caseString{keys: o.keyList("with_keys", true)}
		switch name {
		case "lowercase_string":
			p.f = strings.ToLower
		case "uppercase_string":
			p.f = strings.ToUpper
		default:
			p.f = strings.TrimSpace
		}
		return p
	}
}

func (p *caseString) process(r *record) (bool, error) {
	for _, k := range p.keys {
		if s, ok := get(r.doc, k); ok {
			if str, isStr := s.(string); isStr {
				if err := set(r.doc, k, p.f(str)); err != nil {
					return false, err
				}
			}
		}
	}
	return false, nil
}
