//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// extremeNumbers are legal DynamoDB numbers at the edges: 38 significant
// digits, the smallest and largest magnitudes, negative, fractional.
var extremeNumbers = []string{
	"12345678901234567890123456789012345678",
	"-12345678901234567890123456789012345678",
	"1E-130", "-1E-130", "9.99E+125", "-9.99E+125",
	"0.00000000000000000000000000000000000001",
	"1.2345678901234567890123456789012345678E+50",
	"9223372036854775808", "-9223372036854775809", // just beyond int64
	"3.4028236E+38", // just beyond float
	"0", "1", "1.5",
}

// numbersItem is item i: every attribute is a fresh field on a fresh index,
// integral in some items and fractional or extreme in others, at the top,
// in a set, a nested map and a list.
func numbersItem(i int) map[string]types.AttributeValue {
	pick := func(k int) string { return extremeNumbers[(i+k)%len(extremeNumbers)] }
	integral := fmt.Sprint(i)
	fractional := fmt.Sprintf("%d.5", i)
	mixed := integral
	if i%2 == 1 {
		mixed = fractional
	}
	return map[string]types.AttributeValue{
		"pk":      s(fmt.Sprintf("n%04d", i)),
		"mixed":   n(mixed),   // 1 in one item, 1.5 in the next: the long/float race
		"extreme": n(pick(0)), // every extreme value in the same field
		"first":   n(pick(i)), // a different extreme first in each writer
		"set":     &types.AttributeValueMemberNS{Value: []string{pick(1), pick(2), pick(3)}},
		"nested": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"amount": n(mixed),
			"deep":   &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n(pick(4))}},
		}},
		"list": &types.AttributeValueMemberL{Value: []types.AttributeValue{n(pick(5)), n(integral), n(fractional),
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"y": n(pick(6))}}}},
		fmt.Sprintf("f%d", i%7): n(mixed),    // fields first seen in several writers at once
		"numorstr":              numOrStr(i), // N in one item, S in the next
		"mixlist":               &types.AttributeValueMemberL{Value: []types.AttributeValue{numOrStr(i), numOrStr(i + 1), &types.AttributeValueMemberBOOL{Value: i%3 == 0}}},
	}
}

func numOrStr(i int) types.AttributeValue {
	if i%2 == 0 {
		return n(extremeNumbers[i%len(extremeNumbers)])
	}
	return s(fmt.Sprintf("text %d", i))
}

// TestNumbersEveryLegalValueIndexes: on a fresh index with no user mapping,
// items carrying every extreme DynamoDB number (top level, sets, nested
// maps, lists; integral and fractional in the same attribute) are written
// by parallel writers (an 8-segment scan backfill with small pages, then
// the stream) so their first mappings race. Every item must have its
// document with the exact digits, and nothing may be dead-lettered.
// Without ddbsync's number mapping, OpenSearch maps these fields as long or
// float and refuses the 38-digit integers, 9.99E+125 and the race losers.
// Both with a literal index (created by ddbsync with the mapping) and with
// a date pattern (indices created by the first bulk write, which get the
// mapping from ddbsync's template).
func TestNumbersEveryLegalValueIndexes(t *testing.T) {
	for _, pattern := range []bool{false, true} {
		t.Run(fmt.Sprintf("pattern=%v", pattern), func(t *testing.T) { numbersScenario(t, pattern) })
	}
}

func numbersScenario(t *testing.T, pattern bool) {
	e := newE2E(t, "numbers", "", "")
	base := e.index
	if pattern {
		e.index = base + "-%{yyyy.MM.dd}"
	}
	const before, after = 160, 60
	for i := 0; i < before; i++ {
		e.put(numbersItem(i))
	}
	// NUMBERS_SINK_EXTRA=number_mapping: none runs the control experiment:
	// OpenSearch's own dynamic mapping, which must fail this test.
	e.writePipeline("scan:\n  segments: 8\n  page_size: 5\nstream:\n  start_position: LATEST", os.Getenv("NUMBERS_SINK_EXTRA"))
	if pattern {
		e.index = base + "-*" // every index of the pattern, for the comparison
	}
	e.start()
	e.waitLog("scan backfill complete", 3*time.Minute)
	for i := before; i < before+after; i++ {
		e.put(numbersItem(i))
	}
	// An update from integral to fractional and back, through the stream.
	for i := 0; i < 10; i++ {
		it := numbersItem(i)
		it["mixed"] = n(fmt.Sprintf("%d.25", i))
		it["late"] = n(extremeNumbers[i%len(extremeNumbers)])
		e.put(it)
	}
	d := e.converge(2 * time.Minute)
	if d.items != before+after {
		t.Fatalf("%d items, want %d", d.items, before+after)
	}
	// _source keeps the exact digits: the converged comparison is byte for
	// byte; check the extremes are really there in plain decimal form.
	docs := e.indexDocs()
	for _, want := range []string{`"extreme":12345678901234567890123456789012345678`, `"extreme":-0.` + strings.Repeat("0", 129) + "1",
		`"extreme":999` + strings.Repeat("0", 123)} {
		found := false
		for _, src := range docs {
			if strings.Contains(src, want) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no document holds %.60s…", want)
		}
	}
	// Nothing was dead-lettered, and the fields are doubles.
	dlq := filepath.Join(e.dir, "state", "dlq", "e2e.jsonl")
	if b, err := os.ReadFile(dlq); err == nil && len(b) > 0 {
		t.Errorf("dead letters:\n%.2000s", b)
	}
	t.Logf("mapping races retried: %d bulk retries; fields pinned: %d", strings.Count(e.log(), `msg="bulk retry"`),
		strings.Count(e.log(), "field mapping pinned"))
	if strings.Contains(e.log(), "dead-letter") {
		t.Errorf("the log mentions dead letters")
	}
	st, body := e.osDo(http.MethodGet, "/"+e.index+"/_mapping", nil)
	if st != 200 {
		t.Fatalf("get mapping: %d %s", st, body)
	}
	for _, f := range []string{`"mixed":{"type":"double"`, `"extreme":{"type":"double"`, `"amount":{"type":"double"`} {
		if !strings.Contains(string(body), f) {
			t.Errorf("mapping lacks %s: %s", f, body)
		}
	}
	// The template that carries the mapping to indices created by a bulk write.
	if st, body := e.osDo(http.MethodGet, "/_template/"+base+"-ddbsync-numbers", nil); st != 200 || !strings.Contains(string(body), `"match_mapping_type":"long"`) {
		t.Errorf("number mapping template: %d %s", st, body)
	}
	t.Cleanup(func() {
		e.osDo(http.MethodDelete, "/_template/"+base+"-ddbsync-numbers", nil)
		e.osDo(http.MethodDelete, "/"+e.index, nil)
	})
}

// TestNumbersRaceRetriedWithoutMapping: with number_mapping: none (the
// user's own dynamic mapping), parallel first writes of 1 and 1.5 into
// fresh fields race (long vs float); the losers are sent again and parse
// against the winner's mapping, so nothing is dead-lettered.
func TestNumbersRaceRetriedWithoutMapping(t *testing.T) {
	e := newE2E(t, "numrace", "", "")
	const count = 200
	for i := 0; i < count; i++ {
		v := "1"
		if i%2 == 1 {
			v = "1.5"
		}
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("r%04d", i)), "a": n(v), fmt.Sprintf("f%d", i%9): n(v),
			"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n(v)}}})
	}
	e.writePipeline("scan:\n  segments: 8\n  page_size: 5\nstream:\n  start_position: LATEST", "number_mapping: none")
	e.start()
	e.waitLog("scan backfill complete", 3*time.Minute)
	e.converge(time.Minute)
	retries := strings.Count(e.log(), `msg="bulk retry"`)
	t.Logf("bulk retries after mapping races: %d", retries)
	if b, err := os.ReadFile(filepath.Join(e.dir, "state", "dlq", "e2e.jsonl")); err == nil && len(b) > 0 {
		t.Errorf("dead letters:\n%.2000s", b)
	}
	if st, body := e.osDo(http.MethodGet, "/_template/"+e.index+"-ddbsync-numbers", nil); st != 404 {
		t.Errorf("number_mapping: none installed a template: %d %s", st, body)
	}
	t.Cleanup(func() { e.osDo(http.MethodDelete, "/"+e.index, nil) })
}

// TestBooleansThenOtherKinds: an attribute that is BOOL in the first items
// written and S, N, B, a list mixing every kind, or BOOL again in later
// ones (DynamoDB attributes have no fixed type) indexes every item under
// ddbsync's default mapping, from the backfill and from the stream, with
// no dead letter: a field first mapped boolean would refuse all the rest.
func TestBooleansThenOtherKinds(t *testing.T) {
	e := newE2E(t, "bools", "", "")
	kinds := []types.AttributeValue{
		&types.AttributeValueMemberBOOL{Value: true},
		s("plain"), n("-1.5E-130"), b([]byte{0, 1}), &types.AttributeValueMemberBOOL{Value: false},
		&types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBOOL{Value: true}, s("AA=="), n("12345678901234567890123456789012345678")}},
		&types.AttributeValueMemberNULL{Value: true},
	}
	// The backfill's first bulk starts with booleans only.
	for i := 0; i < 40; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("a%03d", i)), "flag": &types.AttributeValueMemberBOOL{Value: i%2 == 0},
			"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBOOL{Value: true}}}})
	}
	e.writePipeline("scan:\n  segments: 1\n  page_size: 40\nstream:\n  start_position: LATEST", "")
	e.start()
	e.waitLog("scan backfill complete", 2*time.Minute)
	e.converge(time.Minute)
	for i := 0; i < 70; i++ {
		k := kinds[i%len(kinds)]
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("b%03d", i)), "flag": k,
			"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{k, kinds[(i+1)%len(kinds)]}}})
	}
	e.converge(time.Minute)
	if b, err := os.ReadFile(filepath.Join(e.dir, "state", "dlq", "e2e.jsonl")); err == nil && len(b) > 0 {
		t.Errorf("dead letters:\n%.2000s", b)
	}
	// Search still finds booleans by value.
	st, body := e.osDo(http.MethodGet, "/"+e.index+"/_count?q=flag:true", nil)
	if st != 200 || strings.Contains(string(body), `"count":0`) {
		t.Errorf("flag:true finds nothing: %d %s", st, body)
	}
}
