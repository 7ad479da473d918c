package opensearch

import (
	"encoding/json"
	"testing"
)

// TestConflictPin: the reasons OpenSearch 2.19 gives for a list mixing
// kinds (measured on the real server) name the field and the pinned type.
func TestConflictPin(t *testing.T) {
	tests := []struct {
		reason string
		field  string
		want   string // the mapping as JSON; "" = no pin
	}{
		{"mapper [e] cannot be changed from type [double] to [text]", "e", `{"fields":{"keyword":{"ignore_above":256,"type":"keyword"}},"type":"text"}`},
		{"mapper [n.l.m] cannot be changed from type [text] to [double]", "n.l.m", `{"fields":{"keyword":{"ignore_above":256,"type":"keyword"}},"type":"text"}`},
		{"mapper [c] cannot be changed from type [double] to [boolean]", "c", `{"ignore_malformed":true,"type":"double"}`},
		{"mapper [b] cannot be changed from type [boolean] to [text]", "b", `{"fields":{"keyword":{"ignore_above":256,"type":"keyword"}},"type":"text"}`},
		{"can't merge a non object mapping [list] with an object mapping", "list", `{"enabled":false,"type":"object"}`},
		{"mapper [x] of different type, current_type [long], merged_type [object]", "x", `{"enabled":false,"type":"object"}`},
		{"failed to parse field [a] of type [long]", "", ""},
	}
	for _, tc := range tests {
		field, m, ok := conflictPin(tc.reason)
		got := ""
		if ok {
			b, _ := json.Marshal(m)
			got = string(b)
		}
		if field != tc.field || got != tc.want {
			t.Errorf("conflictPin(%q) = %q %s, want %q %s", tc.reason, field, got, tc.field, tc.want)
		}
	}
}

func TestFieldMapped(t *testing.T) {
	body := []byte(`{"i":{"mappings":{"properties":{"a":{"properties":{"b":{"type":"double"}}},"l":{"type":"object","enabled":false}}}}}`)
	for field, want := range map[string]bool{"a.b": true, "a": true, "l": true, "a.c": false, "b": false, "l.x": false} {
		if got := fieldMapped(body, field); got != want {
			t.Errorf("fieldMapped(%q) = %v, want %v", field, got, want)
		}
	}
	if fieldMapped([]byte(`{"i":{"mappings":{}}}`), "a") {
		t.Error("empty mappings reported as mapped")
	}
}
