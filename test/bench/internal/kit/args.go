package kit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
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

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
