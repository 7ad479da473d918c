package stream

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/retry"
)

// trimmedBound is how long fresh iterators of one shard may keep answering
// TrimmedDataAccessException, with no successful read in between, before
// the records after the checkpoint are taken as gone (DESIGN §2.9).
//
// Why minutes: DynamoDB Local answers TrimmedDataAccessException for an
// iterator taken while its shard was empty once the shard's first record
// arrives with a higher sequence number (sequence numbers are shared by
// every table of a Local database, so another table's write in between is
// enough). A fresh iterator taken after that first record reads normally,
// so the false answer clears at the first retry; it can come back only
// while the shard is still empty, once per shard. Five minutes is far
// beyond that (it survives a CPU-starved Local answering slowly through a
// rollover storm) and is nothing against the 24 h retention a real trim
// implies, where the records are gone whether the gap is declared now or
// five minutes later.
const trimmedBound = 5 * time.Minute

// trimmedRetryCeiling caps the wait between fresh iterators.
const trimmedRetryCeiling = 15 * time.Second

// trimEvidence is what is known when a read answers TrimmedDataAccessException.
type trimEvidence struct {
	// Checkpoint is the last acknowledged sequence number ("" for none).
	Checkpoint string
	// Listed says the shard is still in the stream's listing.
	Listed bool
	// Start is the shard's SequenceNumberRange.StartingSequenceNumber.
	Start string
	// Fresh says the failing iterator was taken after an earlier trimmed
	// answer of the same streak (it cannot be a stale one).
	Fresh bool
	// ClosedBefore says a listing showed the shard closed before the
	// failing iterator was taken: no record can arrive after the iterator,
	// which rules out DynamoDB Local's empty-shard answer.
	ClosedBefore bool
	// Failing is how long the current streak of trimmed answers lasts.
	Failing time.Duration
}

// trimVerdict is the reaction to a trimmed answer.
type trimVerdict uint8

const (
	trimRetry trimVerdict = iota // take a fresh iterator and read again
	trimGone                     // proof: records after the checkpoint are gone
)

// decideTrimmed returns what to do after a TrimmedDataAccessException and,
// for trimGone, the proof. Only proof that records after the checkpoint
// are gone ends the retries.
func decideTrimmed(e trimEvidence, bound time.Duration) (trimVerdict, string) {
	after := "the shard's start"
	if e.Checkpoint != "" {
		after = fmt.Sprintf("sequence %q", e.Checkpoint)
	}
	switch {
	case !e.Listed:
		return trimGone, fmt.Sprintf("the shard left the stream's listing before it was read past %s", after)
	case e.Checkpoint != "" && e.Start != "" && checkpoint.CompareSequence(e.Start, e.Checkpoint) > 0:
		return trimGone, fmt.Sprintf("the shard now starts at sequence %s, after the checkpoint %q", e.Start, e.Checkpoint)
	case e.Fresh && e.ClosedBefore:
		return trimGone, fmt.Sprintf("a fresh iterator on the closed shard still cannot read past %s", after)
	case e.Fresh && e.Failing >= bound:
		return trimGone, fmt.Sprintf("fresh iterators kept failing for %s; records after %s are gone", e.Failing.Round(time.Second), after)
	}
	return trimRetry, ""
}

// trimState follows one shard's streak of trimmed answers.
type trimState struct {
	since     time.Time // first trimmed answer of the streak; zero when none
	attempts  int
	sawClosed bool // the streak's last listing showed the shard closed
	fresh     bool // the current iterator was taken during the streak
	closed    bool // ... and after a listing showed the shard closed
}

// took records that a new iterator was taken (or asked for).
func (t *trimState) took() {
	t.fresh = !t.since.IsZero()
	t.closed = t.fresh && t.sawClosed
}

// readOK ends a streak: the shard answered a read.
func (t *trimState) readOK() { *t = trimState{} }

// onTrimmed handles a TrimmedDataAccessException on shard sh: it lists the
// stream, decides, and either waits before the next fresh iterator
// (returning nil, nil), or returns the proof as a *GapError, or — when the
// shard had no checkpoint and everything trimmed predates the cutoff —
// returns done = true.
func (s *Source) onTrimmed(ctx context.Context, sh shardInfo, p checkpoint.Progress, from int64, t *trimState, cause error, log *slog.Logger) (done bool, err error) {
	now := s.opts.Now()
	if t.since.IsZero() {
		t.since = now
	}
	t.attempts++
	shards, err := s.listShards(ctx)
	if err != nil {
		return false, err
	}
	e := trimEvidence{Checkpoint: p.Sequence, Fresh: t.fresh, ClosedBefore: t.closed, Failing: now.Sub(t.since)}
	for _, x := range shards {
		if x.ID == sh.ID {
			e.Listed, e.Start = true, x.Start
			t.sawClosed = x.Closed
		}
	}
	verdict, proof := decideTrimmed(e, s.opts.TrimmedBound)
	if verdict == trimRetry {
		wait := retry.Backoff(t.attempts-1, s.opts.PollMin, trimmedRetryCeiling)
		// The first answer is routine on DynamoDB Local (a shard read while
		// empty); one that persists deserves attention.
		level := slog.LevelInfo
		if t.attempts > 1 {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "shard answered TrimmedDataAccessException; reading again with a fresh iterator",
			"after_seq", p.Sequence, "attempt", t.attempts, "failing_for", e.Failing.Round(time.Millisecond), "wait", wait, "err", cause)
		return false, sleep(ctx, wait)
	}
	if p.Sequence == "" && s.trimmedBeforeCutoff(from) {
		log.Warn("every record of the shard is trimmed and predates the stream cutoff; nothing to apply", "proof", proof)
		return true, nil
	}
	reason := "trimmed"
	if !e.Listed {
		reason = "shard_missing"
	}
	s.m.Gaps.WithLabelValues(s.table.Name, reason).Inc()
	return false, &GapError{Table: s.table.Name, Shard: sh.ID, Reason: "records were trimmed before they were read: " + proof, Err: cause}
}

// trimmedBeforeCutoff reports whether records of a shard with no
// checkpoint that are proven trimmed can only be older than the cutoff:
// the stream trims after 24 h, so when the cutoff is younger than that,
// every trimmed record predates it and would have been skipped anyway.
// Used only after decideTrimmed found proof, never on a first answer.
func (s *Source) trimmedBeforeCutoff(from int64) bool {
	return from > 0 && s.opts.Now().Add(-retention).Unix() < from
}
