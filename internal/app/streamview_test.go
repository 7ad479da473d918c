package app

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/expr"
)

func TestCheckStreamView(t *testing.T) {
	sinkWith := func(routing string) *config.Pipeline {
		o := &config.OpenSearch{Index: expr.MustParse("i"), DocumentID: expr.MustParse(config.DefaultDocumentID)}
		if routing != "" {
			o.Routing = expr.MustParse(routing)
		}
		return &config.Pipeline{Name: "p", Sinks: []config.Sink{{OpenSearch: o}}}
	}
	key := ddbjson.Key{Partition: "pk", Sort: "sk"}
	tests := []struct {
		name    string
		p       *config.Pipeline
		view    types.StreamViewType
		wantLog bool
	}{
		{"non-key routing, NEW_IMAGE", sinkWith("${/tenant}"), types.StreamViewTypeNewImage, true},
		{"non-key routing, NEW_AND_OLD_IMAGES", sinkWith("${/tenant}"), types.StreamViewTypeNewAndOldImages, false},
		{"key routing, NEW_IMAGE", sinkWith("${/sk}"), types.StreamViewTypeNewImage, false},
		{"no routing, NEW_IMAGE", sinkWith(""), types.StreamViewTypeNewImage, false},
		{"no stream", sinkWith("${/tenant}"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(io.MultiWriter(&buf), nil))
			got := checkStreamView(log, tt.p, tableInfo{Name: "orders", Key: key, ViewType: tt.view})
			if (len(got) > 0) != tt.wantLog || (buf.Len() > 0) != tt.wantLog {
				t.Fatalf("logged %q (reads %v), want a log: %v", buf.String(), got, tt.wantLog)
			}
			if tt.wantLog && !strings.Contains(buf.String(), "NEW_AND_OLD_IMAGES") {
				t.Errorf("log does not say which view is needed: %s", buf.String())
			}
		})
	}
}
