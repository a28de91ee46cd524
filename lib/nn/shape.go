package nn

// TensorShape is the name and shape of a model's parameter or buffer, known
// before the model is built (lib/models.Shapes derives it from a model's
// configuration; lib/train compares it with a checkpoint's header).
type TensorShape struct {
	Name   string
	Shape  []int
	Buffer bool // batch-norm running statistics, not a trainable parameter
}
