package opensearch

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// RefreshTarget is the index expression Refresh refreshes: the literal
// index, or the fixed prefix of a dynamic index followed by '*' (every
// index the sink can write), or every index when the name has no fixed
// prefix.
func (s *Sink) RefreshTarget() string {
	idx := s.res.IndexTemplate()
	if idx.IsLiteral() {
		return s.res.NormalizeIndex(idx.String())
	}
	if p := indexPrefix(idx.String()); p != "" {
		return s.res.NormalizeIndex(p) + "*"
	}
	return "_all"
}

// Refresh makes every document the sink has written visible to search
// (POST <RefreshTarget>/_refresh). A missing index is not an error: nothing
// was written to it. OpenSearch Serverless has no refresh API (it refreshes
// on its own schedule), so there Refresh does nothing.
func (s *Sink) Refresh(ctx context.Context) error {
	if s.cfg.Serverless() {
		return nil
	}
	target := s.RefreshTarget()
	status, body, err := s.do(ctx, http.MethodPost, "/"+url.PathEscape(target)+"/_refresh?allow_no_indices=true&ignore_unavailable=true", nil)
	if err != nil {
		return fmt.Errorf("refresh %s: %w", target, err)
	}
	if status/100 != 2 && status != http.StatusNotFound {
		return fmt.Errorf("refresh %s: %s", target, explainStatus(status, body))
	}
	return nil
}
