package experiment

import (
	"fmt"

	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/train"
)

// NewModel builds the model name with cfg (typically a checkpoint's stored
// model spec) and loads c into it. The shapes of every parameter and buffer
// are derived from (name, cfg) with models.Shapes, which bounds every size,
// and compared with the checkpoint's header before anything is allocated, so
// a spec that does not describe the file's tensors fails with a one-line
// error instead of allocating what it asks for.
func NewModel[T nn.Float](c *train.Checkpoint, name string, cfg models.Config) (*models.Model[T], error) {
	shapes, err := models.Shapes(name, cfg)
	if err != nil {
		return nil, fmt.Errorf("experiment: checkpoint %s: model spec: %w", c.Path, err)
	}
	if err := c.CheckShapes(shapes); err != nil {
		return nil, err
	}
	m, err := models.New[T](name, cfg)
	if err != nil {
		return nil, fmt.Errorf("experiment: checkpoint %s: model spec: %w", c.Path, err)
	}
	if err := c.LoadModel(m); err != nil {
		return nil, err
	}
	return m, nil
}
