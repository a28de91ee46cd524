package data

import (
	"fmt"
)

// Load returns one split of a named dataset (see Names), fetching and
// verifying its files first as Fetch does. opts may be nil.
//
// For "semeion" the only split is All; Train is accepted as a synonym.
func Load(name string, split Split, opts *Options) (*Dataset, error) {
	s, err := lookup(name)
	if err != nil {
		return nil, err
	}
	if name == "semeion" && split == Train {
		split = All
	}
	files := s.filesFor(split)
	if len(files) == 0 {
		return nil, fmt.Errorf("data: %s has no split %q (it has %v)", name, split, s.splits)
	}
	paths := map[string]string{}
	for _, f := range files {
		p, err := ensure(s, f, opts)
		if err != nil {
			return nil, err
		}
		paths[f.Name] = p
	}
	d, err := s.load(s, split, paths)
	if err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// MustLoad is Load that panics on error, for notebooks.
func MustLoad(name string, split Split, opts *Options) *Dataset {
	d, err := Load(name, split, opts)
	if err != nil {
		panic(err)
	}
	return d
}
