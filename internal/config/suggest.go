package config

import "strings"

// suggest returns the candidate closest to got, or "" when none is close
// enough to be a likely misspelling: at most 2 edits (1 for words of up to 4
// letters), or equal once case, '-' and '_' are ignored (tableArn, s3-bucket).
func suggest(got string, candidates []string) string {
	best, bestDist := "", -1
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
	}
	for _, c := range candidates {
		if norm(c) == norm(got) {
			return c
		}
		limit := 2
		if len(c) <= 4 {
			limit = 1
		}
		d := levenshtein(strings.ToLower(got), strings.ToLower(c))
		if d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// levenshtein is the edit distance between a and b (insert, delete, substitute,
// and swapping two adjacent letters counted as one edit).
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// three rows: two back (for transpositions), previous, current
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
