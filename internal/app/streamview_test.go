package app

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/expr"
)

func TestStreamViewProblem(t *testing.T) {
	sinkWith := func(routing string) *config.Pipeline {
		o := &config.OpenSearch{Index: expr.MustParse("i"), DocumentID: expr.MustParse(config.DefaultDocumentID)}
		if routing != "" {
			o.Routing = expr.MustParse(routing)
		}
		return &config.Pipeline{Name: "p", Sinks: []config.Sink{{OpenSearch: o}}}
	}
	key := ddbjson.Key{Partition: "pk", Sort: "sk"}
	tests := []struct {
		name  string
		p     *config.Pipeline
		view  types.StreamViewType
		wants []string // in the error; nil: no error
	}{
		{"non-key routing, NEW_IMAGE", sinkWith("${/tenant}"), types.StreamViewTypeNewImage, []string{"routing /tenant", "NEW_AND_OLD_IMAGES", "NEW_IMAGE", "orders"}},
		{"non-key routing, NEW_AND_OLD_IMAGES", sinkWith("${/tenant}"), types.StreamViewTypeNewAndOldImages, nil},
		{"key routing, NEW_IMAGE", sinkWith("${/sk}"), types.StreamViewTypeNewImage, nil},
		{"no routing, NEW_IMAGE", sinkWith(""), types.StreamViewTypeNewImage, nil},

		{"KEYS_ONLY", sinkWith(""), types.StreamViewTypeKeysOnly, []string{"KEYS_ONLY", "NEW_AND_OLD_IMAGES", "disable the stream and enable it again"}},
		{"OLD_IMAGE", sinkWith(""), types.StreamViewTypeOldImage, []string{"OLD_IMAGE", "no new item images"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := streamViewProblem(tt.p, tableInfo{Name: "orders", Key: key, ViewType: tt.view, StreamEnabled: true})
			if (err != nil) != (tt.wants != nil) {
				t.Fatalf("got %v, want an error: %v", err, tt.wants != nil)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}
