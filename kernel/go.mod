module repdyn/kernel

go 1.26.0
