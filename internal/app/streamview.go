package app

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/config"
)

// streamViewProblem says why the table's stream view cannot keep the index
// equal to the table, or returns nil. KEYS_ONLY and OLD_IMAGE carry no new
// images. NEW_IMAGE carries no old images, which the configuration needs
// when a sink places documents by non-key attributes (index, document_id,
// routing: DESIGN §2.11 — a REMOVE could not be placed and a change of such
// an attribute would leave the old copy behind). view_on_remove: OLD_IMAGE
// only chooses a delete's body, so it does not need them. A view type cannot be changed in place, so the message says to
// disable the stream and enable it again.
func streamViewProblem(p *config.Pipeline, info tableInfo) error {
	const fix = "a stream's view type cannot be changed: disable the stream and enable it again with StreamViewType=NEW_AND_OLD_IMAGES"
	switch info.ViewType {
	case types.StreamViewTypeNewAndOldImages:
		return nil
	case types.StreamViewTypeNewImage:
	default:
		return fmt.Errorf("table %s has stream view type %s, which carries no new item images: the stream view type must be NEW_IMAGE or NEW_AND_OLD_IMAGES (%s)", info.Name, info.ViewType, fix)
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
	return fmt.Errorf("the table's stream has no old images: table %s has stream view type %s, but the pipeline needs old images (%s): deletes of such "+
		"documents could not be placed and a change of these attributes would leave the old copy behind; %s",
		info.Name, info.ViewType, strings.Join(need, ", "), fix)
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
