package kit

import (
	"fmt"
	"strconv"
	"strings"
)

// Counts parses a comma-separated list of counts ("50,200"), each at
// least least.
func Counts(list string, least int) ([]int, error) {
	var ns []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < least {
			return nil, fmt.Errorf("%q: want comma-separated counts of at least %d", list, least)
		}
		ns = append(ns, n)
	}
	return ns, nil
}
