module github.com/keenml/keen

go 1.26
