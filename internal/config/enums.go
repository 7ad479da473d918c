package config

// Values of the enum options, as the model stores them (the file may write
// them in any case).
const (
	StartLatest      = "LATEST"       // stream.start_position: new records only
	StartTrimHorizon = "TRIM_HORIZON" // stream.start_position: oldest retained record

	ViewNewImage = "NEW_IMAGE" // stream.view_on_remove
	ViewOldImage = "OLD_IMAGE" // stream.view_on_remove

	TTLDelete = "delete" // stream.ttl_deletes: TTL expiry deletes the document
	TTLKeep   = "keep"   // stream.ttl_deletes: TTL expiry keeps the document

	OnGapStop       = "stop"       // stream.on_gap: fail loudly and stop
	OnGapRebackfill = "rebackfill" // stream.on_gap: backfill the table again

	FormatDynamoDBJSON = "DYNAMODB_JSON" // export.format
	FormatION          = "ION"           // export.format

	VersionTypeInternal    = "internal"     // document_version_type
	VersionTypeExternal    = "external"     // document_version_type
	VersionTypeExternalGTE = "external_gte" // document_version_type

	IndexTypeCustom             = "custom"              // index_type: ddbsync manages the index
	IndexTypeManagementDisabled = "management_disabled" // index_type: index managed elsewhere

	TemplateTypeV1            = "v1"             // template_type: legacy _template API
	TemplateTypeIndexTemplate = "index-template" // template_type: composable _index_template API

	NumberMappingDouble = "double" // number_mapping: ddbsync maps every JSON number as double (default)
	NumberMappingNone   = "none"   // number_mapping: ddbsync installs no mapping; OpenSearch's dynamic mapping decides
)

// indexTypes are every index_type Data Prepper knows; ddbsync runs only
// custom and management_disabled (see unsupported.go).
func indexTypes() []string {
	return []string{
		IndexTypeCustom, IndexTypeManagementDisabled,
		"trace-analytics-raw", "trace-analytics-plain-raw", "trace-analytics-service-map",
		"log-analytics", "log-analytics-plain", "metric-analytics", "metric-analytics-plain",
	}
}

// Distribution versions (opensearch `distribution_version`).
const (
	DistributionDefault = "default"
	DistributionES6     = "es6"
)
