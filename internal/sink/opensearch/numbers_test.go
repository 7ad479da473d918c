package opensearch

import "testing"

func TestIndexGlob(t *testing.T) {
	tests := map[string]string{
		"orders":                               "orders",
		"logs-%{yyyy.MM.dd}":                   "logs-*",
		"orders-%{yyyy.MM}-v2":                 "orders-*-v2",
		"t-${/tenant}-%{yyyy}":                 "t-*-*",
		"t-${/tenant}x%{yyyy}y":                "t-*x*y",
		`${getMetadata("table_name")}-archive`: "*-archive",
		"a%b$c":                                "a%b$c",
	}
	for in, want := range tests {
		if got := indexGlob(in); got != want {
			t.Errorf("indexGlob(%q) = %q, want %q", in, got, want)
		}
	}
}
