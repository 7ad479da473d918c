package workload

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ExtremeNumbers returns legal DynamoDB numbers at the edges: 38 significant
// digits, the smallest and largest magnitudes, integers beyond int64 and
// uint64, negatives and zero, next to ordinary integral and fractional
// values. OpenSearch's dynamic mapping refuses several of them (DESIGN §2.10).
func ExtremeNumbers() []string {
	return []string{
		"0", "1", "-1", "42", "-42", "0.5", "-0.000001", "3.25",
		"12345678901234567890123456789012345678",  // 38 significant digits
		"-99999999999999999999999999999999999999", // 38 nines, negative
		"1.2345678901234567890123456789012345678", // 38 digits, fractional
		"1E-130", "-1E-130", // smallest magnitudes
		"9.99E+125", "-9.99E+125", // largest magnitudes
		"9223372036854775807", "9223372036854775808", "-9223372036854775809", // around int64
		"18446744073709551616", // beyond uint64
		"3.4028236E+38",        // just beyond float32
		"1E+39", "-1.5E+100",
	}
}

// Strings returns legal S values that stress escaping and analysis: empty and
// blank, quotes and backslashes, control characters (NUL included), line
// and paragraph separators, non-Latin scripts, emoji and lone combining
// marks.
func Strings() []string {
	return []string{
		"", " ", "plain", "héllo \"q\" \\ \u0001\u001f\n\t <&> \u2028 🎉",
		"ключ значение", "☃", "nul\u0000byte", "e\u0301", "{\"json\":[1,2]}", "0", "true", "null",
		"a|b", "sha256:", "  padded  ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
	}
}

// Binaries returns legal B values: empty, zero bytes, 0xff, the separator
// byte, and bytes whose base64 holds '+' and '/'.
func Binaries() [][]byte {
	return [][]byte{{}, {0}, {0xff}, {0, 1, 2, 255}, []byte("a|b"), {0xfb, 0xff, 0xbf}, {0x3e, 0x3f}}
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// numberFor draws a number for an ordinary attribute: integral or
// fractional, chosen by the caller's mode (integral < 0 = either).
func numberFor(rng *rand.Rand, integral int) string {
	if integral < 0 {
		integral = rng.IntN(2)
	}
	neg := ""
	if rng.IntN(5) == 0 {
		neg = "-"
	}
	if integral == 1 {
		return fmt.Sprintf("%s%d", neg, rng.IntN(100000))
	}
	return fmt.Sprintf("%s%d.%d", neg, rng.IntN(100000), 1+rng.IntN(99))
}

func sv(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func nv(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
func bv(v []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: v} }

// numberSet draws a non-empty NS with distinct values mixing extremes and
// ordinary integral and fractional numbers.
func numberSet(rng *rand.Rand) []string {
	seen := map[string]bool{}
	var out []string
	for len(out) < 1+rng.IntN(4) {
		v := pick(rng, ExtremeNumbers())
		if rng.IntN(2) == 0 {
			v = numberFor(rng, -1)
		}
		if !seen[canonical(v)] {
			seen[canonical(v)] = true
			out = append(out, v)
		}
	}
	return out
}

// canonical folds numbers DynamoDB considers equal in a set ("0.5" vs
// ".50" does not occur here; only exact duplicates and signed zero).
func canonical(v string) string {
	if v == "-0" {
		return "0"
	}
	return v
}

func stringSet(rng *rand.Rand) []string {
	seen := map[string]bool{}
	var out []string
	for len(out) < 1+rng.IntN(4) {
		v := pick(rng, Strings())
		if v == "" { // a set element may not be empty
			continue
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func binarySet(rng *rand.Rand) [][]byte {
	seen := map[string]bool{}
	var out [][]byte
	for len(out) < 1+rng.IntN(3) {
		v := pick(rng, Binaries())
		if len(v) == 0 {
			continue
		}
		if !seen[string(v)] {
			seen[string(v)] = true
			out = append(out, v)
		}
	}
	return out
}

// mixedList is an L whose elements have different scalar types: strings,
// numbers, booleans, NULL, binary and a nested list of scalars. Maps go in
// mapList: OpenSearch maps one field path either as an object or as a
// value, never both, so an attribute that holds a map in one place and a
// scalar in another cannot be indexed under any mapping. That case is the
// product's dead-letter path (README: Numbers and mapping, Dead letters),
// pinned by TestMappingRejectionGoesToDLQ and TestDeadLetterDefaultAndRedrive.
func mixedList(rng *rand.Rand) types.AttributeValue {
	all := []types.AttributeValue{
		sv(pick(rng, Strings())), nv(pick(rng, ExtremeNumbers())), &types.AttributeValueMemberBOOL{Value: rng.IntN(2) == 0},
		&types.AttributeValueMemberNULL{Value: true},
		&types.AttributeValueMemberL{Value: []types.AttributeValue{nv(numberFor(rng, -1)), sv("x")}},
		bv(pick(rng, Binaries())),
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return &types.AttributeValueMemberL{Value: all[:2+rng.IntN(len(all)-1)]}
}

// mapList is an L of maps (the common shape of a list of records) whose
// values mix types, numbers integral and fractional, and an empty map.
func mapList(rng *rand.Rand) types.AttributeValue {
	var out []types.AttributeValue
	for i := 0; i < 1+rng.IntN(3); i++ {
		out = append(out, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"k": nv(numberFor(rng, -1)), "s": sv(pick(rng, Strings())), "big": nv(pick(rng, ExtremeNumbers())),
			"e": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		}})
	}
	return &types.AttributeValueMemberL{Value: out}
}

// deepMap nests maps depth levels deep (the attribute itself is level 1);
// every level carries a number and a mixed leaf.
func deepMap(rng *rand.Rand, depth int) types.AttributeValue {
	var inner types.AttributeValue = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"leaf": nv(pick(rng, ExtremeNumbers())), "s": sv(pick(rng, Strings())),
		"ns": &types.AttributeValueMemberNS{Value: numberSet(rng)},
	}}
	for d := 1; d < depth; d++ {
		inner = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"d": inner, "n": nv(numberFor(rng, -1)),
		}}
	}
	return inner
}

// sha256Key is "sha256:" + the hex SHA-256 of natural: what the product's
// documented hash of a too-long _id looks like, as a literal key value.
func sha256Key(natural string) string {
	sum := sha256.Sum256([]byte(natural))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// filler is a string of n..3n bytes.
func filler(rng *rand.Rand, n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("x", n+rng.IntN(2*n))
}
