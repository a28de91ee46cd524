package experiment_test

import (
	"fmt"

	"repdyn/lib/experiment"
)

func ExampleSpec_Validate() {
	s := experiment.Default()
	s.Model, s.Dataset, s.Subset = "resnet20", "fashion-mnist", -5
	fmt.Println(s.Validate())
	// Output: --subset -5: must be >= 0 (0: all images)
}

func ExampleDiff() {
	stored := experiment.Default()
	stored.Model, stored.Dataset = "resnet20", "cifar10"
	cur := stored
	cur.LR, cur.Flip, cur.Epochs = 5, "false", 60 // epochs may change on resume
	for _, d := range experiment.Diff(stored, cur) {
		fmt.Println(d)
	}
	// Output:
	// --lr 5 differs from the checkpoint's 0.1
	// --flip false differs from the checkpoint's true
}
