module hachi

go 1.26.0
