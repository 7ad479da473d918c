package config

import "github.com/ddbsync/ddbsync/internal/processor"

// processorPath is the path of a pipeline's i-th processor: p.processor[0].date.
func processorPath(p *Pipeline, i int, pr Processor) string {
	return joinPath(itemPath(p.Name+".processor", i), pr.Name)
}

// processors compiles the pipeline's processors into p.Processing and
// reports every bad option at its path and line. Processors ddbsync does
// not implement are left to Unsupported.
func (v *validator) processors(p *Pipeline) {
	if len(p.Processors) == 0 {
		return
	}
	specs := make([]processor.Spec, len(p.Processors))
	for i, pr := range p.Processors {
		specs[i] = processor.Spec{Name: pr.Name, Options: pr.Options}
	}
	chain, probs := processor.Compile(specs)
	for _, pb := range probs {
		if pb.Unknown {
			continue
		}
		v.add(joinPath(processorPath(p, pb.Index, p.Processors[pb.Index]), pb.Path), pb.Msg)
	}
	p.Processing = chain
}
