package expr

import (
	"encoding/json"
	"strings"
	"testing"
)

// fields is a document and metadata for condition tests.
type fields struct {
	doc  map[string]any
	meta map[string]any
}

func (f fields) Field(ptr string) (any, bool) {
	var cur any = f.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}
func (f fields) MetadataValue(k string) (any, bool) { v, ok := f.meta[k]; return v, ok }
func (f fields) HasTag(string) bool                 { return false }

func testFields() fields {
	var doc map[string]any
	d := json.NewDecoder(strings.NewReader(`{"status":"shipped","qty":3,"price":12.50,"big":123456789012345678901234567890,
		"flag":true,"none":null,"a":{"b":"x"},"with space":1,"neg":-2}`))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		panic(err)
	}
	return fields{doc: doc, meta: map[string]any{"opensearch_action": "index", "document_version": json.Number("7")}}
}

func TestConditionEval(t *testing.T) {
	tests := []struct {
		expr string
		want bool
	}{
		{`/status == "shipped"`, true},
		{`/status != "shipped"`, false},
		{`/qty == 3`, true},
		{`/qty == 3.0`, true},
		{`/price == 12.5`, true},
		{`/big == 123456789012345678901234567890`, true},
		{`/big == 123456789012345678901234567891`, false},
		{`/qty == "3"`, false},
		{`/qty > 2 and /qty <= 3`, true},
		{`/qty < 3 or /price >= 12.5`, true},
		{`/neg < -1`, true},
		{`/qty>-1`, true},
		{`not /flag`, false},
		{`not (/qty == 3)`, false},
		{`/flag == true and /none == null`, true},
		{`/missing == null`, true},
		{`/missing != null`, false},
		{`/a/b == "x"`, true},
		{`"/with space" == 1`, true},
		{`getMetadata("opensearch_action") == "index"`, true},
		{`getMetadata("document_version") > 6`, true},
		{`getMetadata("nope") == null`, true},
		{`hasTags("x")`, false},
		{`/status =~ "^ship"`, true},
		{`/status !~ "^ship"`, false},
		{`length(/status) == 7`, true},
		{`contains(/status, "hip")`, true},
		{`startsWith(/status, "ship")`, true},
		{`/qty == 3 or /qty > "x"`, true}, // short circuit
		{`(/qty == 1 or /qty == 3) and /status == "shipped"`, true},
		{`true`, true},
	}
	f := testFields()
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			c, err := ParseCondition(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Eval(f)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConditionErrors(t *testing.T) {
	tests := []struct {
		expr, parseErr, evalErr string
	}{
		{expr: `/status ==`, parseErr: "expected a value, got end of expression at position 11"},
		{expr: `/status == shipped`, parseErr: `unknown word "shipped"`},
		{expr: `/a == "x`, parseErr: "unclosed string at position 7"},
		{expr: `(/a == 1`, parseErr: `expected ")"`},
		{expr: `/a $ 1`, parseErr: `unexpected character '$'`},
		{expr: `foo(/a)`, parseErr: "unknown function foo"},
		{expr: `getMetadata(/a)`, parseErr: "getMetadata needs quoted string arguments"},
		{expr: `/a =~ "("`, parseErr: "invalid regular expression"},
		{expr: `/a == 1 /b`, parseErr: `unexpected "/b"`},
		{expr: `/status < 3`, evalErr: `< needs numbers, got string "shipped" and number 3`},
		{expr: `/missing > 3`, evalErr: `> needs numbers, got null and number 3`},
		{expr: `/status`, evalErr: `the result is string "shipped", not a boolean`},
		{expr: `/qty and true`, evalErr: `and needs booleans, got number 3`},
	}
	f := testFields()
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			c, err := ParseCondition(tt.expr)
			if tt.parseErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.parseErr) {
					t.Fatalf("parse error %v, want it to contain %q", err, tt.parseErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Eval(f)
			if err == nil || !strings.Contains(err.Error(), tt.evalErr) {
				t.Fatalf("eval error %v, want it to contain %q", err, tt.evalErr)
			}
		})
	}
}

func TestConditionValue(t *testing.T) {
	f := testFields()
	for expr, want := range map[string]any{
		`/qty`: json.Number("3"), `length(/status)`: json.Number("7"), `/status`: "shipped", `/missing`: nil, `/qty == 3`: true,
	} {
		c, err := ParseCondition(expr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Value(f)
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", expr, got, err, want)
		}
	}
}
