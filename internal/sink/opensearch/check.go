package opensearch

import (
	"errors"
	"fmt"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// Check runs the checks New runs that need neither the network nor a file
// to be created (format strings, template, TLS certificate file), so that
// `validate` refuses what `run` would refuse, with the same message.
func Check(cfg *config.OpenSearch) error {
	if len(cfg.Hosts) == 0 {
		return errors.New("opensearch: hosts is empty")
	}
	res, err := bulk.NewResolver(cfg)
	if err != nil {
		return fmt.Errorf("opensearch: %w", err)
	}
	if _, err := loadTemplate(cfg, res); err != nil {
		return fmt.Errorf("opensearch: %w", err)
	}
	if _, err := newHTTPTransport(cfg); err != nil {
		return err
	}
	return nil
}
