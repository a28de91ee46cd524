package models

import "repdyn/lib/nn"

// Clone implements nn.Cloner: a deep copy with the same architecture name,
// configuration, parameters and buffers.
func (m *Model[T]) Clone() (nn.Module[T], error) {
	c, err := m.Sequential.Clone()
	if err != nil {
		return nil, err
	}
	return &Model[T]{Sequential: c.(*nn.Sequential[T]), Arch: m.Arch, Config: m.Config}, nil
}
