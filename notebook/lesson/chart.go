package lesson

import "repdyn/notebook/show"

// ShowChart displays c (c.Show: decade ticks on logarithmic axes, the legend
// in the least crowded corner). Kept for the notebooks that call it.
func ShowChart(c *show.Chart) error { return c.Show() }
