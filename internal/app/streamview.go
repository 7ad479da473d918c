package app

import (
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/config"
)

// checkStreamView logs, at start, what the table's real stream view type
// cannot support: placement expressions (index, document_id, routing) that
// read non-key attributes need the old image (DESIGN §2.11). Without it a
// REMOVE cannot be placed (it is dead-lettered) and a change of such an
// attribute leaves the old copy behind. It returns what it logged, for tests.
func checkStreamView(log *slog.Logger, p *config.Pipeline, info tableInfo) []string {
	if info.ViewType == "" || info.ViewType == types.StreamViewTypeNewAndOldImages {
		return nil
	}
	var need []string
	for _, s := range p.Sinks {
		if s.OpenSearch == nil {
			continue
		}
		for _, fp := range s.OpenSearch.PlacementPointers(info.Key.Partition, info.Key.Sort) {
			need = append(need, fp.Field+" "+fp.Pointer)
		}
	}
	if len(need) == 0 {
		return nil
	}
	log.Error("the table's stream has no old images, but the sink places documents by non-key attributes: deletes of such "+
		"documents cannot be placed (they go to the dead-letter queue) and a change of these attributes leaves the old copy "+
		"behind; enable the stream with view type NEW_AND_OLD_IMAGES (a view type cannot be changed: disable the stream and enable it again)",
		"table", info.Name, "view_type", string(info.ViewType), "reads", strings.Join(need, ", "))
	return need
}

// needsOldImages reports whether a sink of p places documents by non-key
// attributes of the table, so that stream events must carry old images.
func needsOldImages(p *config.Pipeline, info tableInfo) bool {
	for _, s := range p.Sinks {
		if s.OpenSearch != nil && len(s.OpenSearch.PlacementPointers(info.Key.Partition, info.Key.Sort)) > 0 {
			return true
		}
	}
	return false
}
