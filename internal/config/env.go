package config

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// substituteEnv replaces every ${env:NAME} in the file's scalar values (not
// in keys) before anything is decoded, so that any option can come from the
// environment. It records the text before substitution in idx.env so that no
// message ever prints a substituted value (it may be a secret), and reports a
// missing variable or a ${{aws_secrets:...}} reference as a problem at the
// value's path.
func substituteEnv(root *yaml.Node, env func(string) (string, bool), idx *index) []Problem {
	var probs []Problem
	raw := map[*yaml.Node]string{} // substituted scalar → its text before
	bad := map[*yaml.Node]bool{}   // scalar whose references failed
	onStack := map[*yaml.Node]bool{}
	// walk substitutes scalars in place; through an alias (alias == true) it
	// only records the paths of values already substituted at the anchor, so
	// that they are never printed under their second path either.
	var walk func(n *yaml.Node, path string, alias bool)
	walk = func(n *yaml.Node, path string, alias bool) {
		if n == nil || onStack[n] {
			return
		}
		onStack[n] = true
		defer delete(onStack, n)
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path, alias)
			}
		case yaml.AliasNode:
			walk(n.Alias, path, true)
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], joinPath(path, n.Content[i].Value), alias)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, itemPath(path, i), alias)
			}
		case yaml.ScalarNode:
			if !alias && strings.Contains(n.Value, "${") {
				out, errs := expandEnv(n.Value, env)
				for _, msg := range errs {
					probs = append(probs, Problem{Line: n.Line, Path: path, Msg: msg})
				}
				if len(errs) > 0 {
					bad[n] = true
				}
				if out != n.Value {
					raw[n] = n.Value
					n.Value = out
				}
			}
			if r, ok := raw[n]; ok {
				idx.env[path] = r
			}
			if bad[n] {
				idx.bad[path] = true
			}
		}
	}
	walk(root, "", false)
	return probs
}

// expandEnv substitutes ${env:NAME} references in s. Other ${...} text is
// left alone: it is a format string (${getMetadata("key")}, ${/pointer}).
// Messages name the variable, never its value.
func expandEnv(s string, env func(string) (string, bool)) (string, []string) {
	var b strings.Builder
	var errs []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), errs
		}
		b.WriteString(s[:i])
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, "${{"):
			end := strings.Index(rest, "}}")
			if end < 0 {
				end = len(rest) - 2
			}
			ref := rest[:end+2]
			what := "${{...}} references"
			if strings.HasPrefix(rest, "${{aws_secrets:") {
				what = "AWS Secrets Manager references"
			}
			errs = append(errs, gotWant("not supported: "+what, quoteRef(ref), `an environment reference such as "${env:OPENSEARCH_PASSWORD}"`))
			b.WriteString(ref)
			s = rest[len(ref):]
		case strings.HasPrefix(rest, "${env:"):
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				errs = append(errs, gotWant("unclosed environment reference", quoteRef(rest), `"${env:NAME}"`))
				b.WriteString(rest)
				return b.String(), errs
			}
			name := rest[len("${env:"):end]
			switch v, ok := lookup(env, name); {
			case !validEnvName(name):
				errs = append(errs, gotWant("invalid environment variable name", quoteRef(rest[:end+1]), "letters, digits and _ (not starting with a digit)"))
			case !ok:
				errs = append(errs, "environment variable "+name+" is not set (referenced as "+quoteRef(rest[:end+1])+")")
			default:
				b.WriteString(v)
			}
			s = rest[end+1:]
		default:
			b.WriteString("${")
			s = rest[2:]
		}
	}
}

func lookup(env func(string) (string, bool), name string) (string, bool) {
	if env == nil || !validEnvName(name) {
		return "", false
	}
	return env(name)
}

func validEnvName(name string) bool {
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	for _, r := range name {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

func quoteRef(s string) string { return `"` + s + `"` }

// bareEnvRef finds a ${NAME}-style reference to an environment variable
// (upper-case letters, digits, _), which ddbsync does not expand: it would
// be taken literally. It returns "" when there is none.
func bareEnvRef(s string) string {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return ""
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return ""
		}
		if name := s[i+2 : i+end]; validEnvName(name) && strings.ToUpper(name) == name {
			return s[i : i+end+1]
		}
		s = s[i+2:]
	}
}
