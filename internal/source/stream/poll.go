package stream

import (
	"context"
	"time"
)

// The poll schedule of one shard reader (issue 12). DynamoDB Streams has no
// long poll, so latency at low traffic is the idle gap between GetRecords
// calls, and cost is the number of calls:
//
//   - after a page with records the next call starts PollMin (200ms, the
//     5 calls/s per shard DynamoDB allows) after the previous one started:
//     at once when applying the page took longer, so a busy or catching-up
//     shard is read back to back;
//   - after an empty page the gap doubles from there up to PollMax, the
//     idle interval (stream.poll_interval, default 250ms: Lambda's 4 calls/s
//     per shard). With the default the first empty page already reaches it.
//
// Gaps are counted start to start, so the time spent in the call and in
// the sink is part of the gap, not added to it. Throttling and other
// transient errors keep their own backoff (readShard).
const (
	defaultPollMin  = 200 * time.Millisecond
	defaultPollIdle = 250 * time.Millisecond
)

// nextPoll returns the start-to-start gap before the next GetRecords call,
// given the previous gap and how many records the last call returned.
func (o *Options) nextPoll(prev time.Duration, records int) time.Duration {
	if records > 0 {
		return o.PollMin
	}
	return min(max(prev*2, o.PollMin), o.PollMax)
}

// wait sleeps d on the reader's clock (Options.Sleep in tests).
func (o *Options) wait(ctx context.Context, d time.Duration) error {
	if o.Sleep != nil {
		if d <= 0 {
			return ctx.Err()
		}
		return o.Sleep(ctx, d)
	}
	return sleep(ctx, d)
}
