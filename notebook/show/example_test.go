package show_test

import "repdyn/notebook/show"

// A verdict cell: outside a notebook the table and the marker line are text;
// in a notebook the table is HTML and Assert fails the cell when a check fails.
func ExampleVerdicts() {
	show.NewVerdicts("toy theory check").
		Add("relative error", 0.012, "<=", 0.05).
		Add("alignment", 0.93, ">=", 0.9).
		Assert()
	// Output:
	// toy theory check
	// check           value  op  threshold  margin  result  note
	// --------------  -----  --  ---------  ------  ------  ----
	// relative error  0.012  <=  0.05       +0.038  PASS
	// alignment       0.93   >=  0.9        +0.03   PASS
	// REPDYN-VERDICT PASS: toy theory check (2/2 checks)
}
