package config

import (
	"fmt"
	"strings"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/expr"
)

// FieldPointer is a JSON pointer that an opensearch sink's index,
// document_id or routing reads from the item.
type FieldPointer struct {
	Field   string // index | document_id | routing
	Pointer string // e.g. /tenant
}

// PlacementPointers returns the pointers that place a document (index,
// document_id, routing) and read an attribute that is not one of keyAttrs
// (the table's key attribute names; none when unknown). Deletes and moves
// of such documents need the stream's old images (DESIGN §2.11).
func (o *OpenSearch) PlacementPointers(keyAttrs ...string) []FieldPointer {
	var out []FieldPointer
	for _, f := range []struct {
		name string
		t    *expr.Template
	}{{"index", o.Index}, {"document_id", o.DocumentID}, {"routing", o.Routing}} {
		if f.t == nil {
			continue
		}
		for _, p := range f.t.Pointers() {
			if !isKeyPointer(p, keyAttrs) {
				out = append(out, FieldPointer{Field: f.name, Pointer: p})
			}
		}
	}
	return out
}

// isKeyPointer reports whether ptr is exactly a key attribute (/pk).
func isKeyPointer(ptr string, keyAttrs []string) bool {
	tok := strings.TrimPrefix(ptr, "/")
	if strings.Contains(tok, "/") {
		return false // inside a value; key attributes are scalars
	}
	tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
	for _, k := range keyAttrs {
		if k != "" && tok == k {
			return true
		}
	}
	return false
}

// Warnings lists what is valid but may not converge, with what to do
// about it: placement expressions (index, document_id, routing) that read
// non-key attributes (they need NEW_AND_OLD_IMAGES; validate cannot see
// the table, `ddbsync run` checks it), index date patterns, and a
// document_id that is not the item's whole key, version options a
// serverless sink ignores, and serverless_options (no policy is managed). `ddbsync validate` prints
// them; they never make a file invalid.
func (f *File) Warnings() []Problem {
	var out []Problem
	add := func(path, msg string) {
		out = append(out, Problem{Line: f.index.line(path), Path: path, Msg: msg})
	}
	for _, p := range f.Pipelines {
		for i, s := range p.Sinks {
			o := s.OpenSearch
			if o == nil {
				continue
			}
			sp := sinkPath(p, i, s)
			for _, fp := range o.PlacementPointers() {
				add(joinPath(sp, fp.Field), fmt.Sprintf("reads %s: unless it is a key attribute, the table's stream view type must be "+
					"NEW_AND_OLD_IMAGES (deletes are placed by the old image, and a change of %s deletes the old copy); "+
					"ddbsync run checks the table", fp.Pointer, fp.Pointer))
			}
			if o.Index != nil && o.Index.HasDate() {
				add(joinPath(sp, "index"), fmt.Sprintf("%q has a date pattern, evaluated against each change's time: when items change "+
					"or are deleted, ddbsync finds and deletes their older copies in the pattern's other indices (one multi-get per "+
					"bulk); for tables whose items change, prefer a constant index or one that depends on the item", o.Index.String()))
			}
			if o.droppedVersionType != "" {
				for _, k := range []string{"document_version_type", "document_version"} {
					if f.index.has(joinPath(sp, k)) {
						add(joinPath(sp, k), fmt.Sprintf("ignored for OpenSearch Serverless (%s): AWS documents no version "+
							"parameters for Serverless collections, so ddbsync sends plain index/delete actions and keeps each key's "+
							"changes in stream order instead (README: OpenSearch Serverless); remove it", o.droppedVersionType))
					}
				}
			}
			if o.AWS != nil && o.AWS.ServerlessOptions != nil {
				path := joinPath(sp, "aws.serverless_options")
				if !f.index.has(path) {
					path = joinPath(sp, "serverless_options")
				}
				add(path, "ddbsync creates and changes no network policy (OpenSearch Ingestion adds its VPC endpoint to this one): "+
					"the collection's network policy must already let ddbsync's network reach it")
			}
			if o.DocumentID != nil && !readsPrimaryKey(o.DocumentID) {
				add(joinPath(sp, "document_id"), fmt.Sprintf("%q is not the item's primary key: items that give the same _id "+
					"overwrite each other's document (fine when the table has no sort key and it is partition_key)", o.DocumentID.String()))
			}
		}
	}
	sortProblems(out)
	return out
}

// readsPrimaryKey reports whether t holds the whole key (primary_key, or
// both partition_key and sort_key).
func readsPrimaryKey(t *expr.Template) bool {
	var pk, sk bool
	for _, m := range t.Metadata() {
		switch m {
		case change.MetaPrimaryKey:
			return true
		case change.MetaPartitionKey:
			pk = true
		case change.MetaSortKey:
			sk = true
		}
	}
	return pk && sk
}
