module repdyn/kernel

go 1.26.0

require repdyn v0.0.0

replace repdyn => ../
