module github.com/keenml/keen

go 1.26.0

require (
	golang.org/x/image v0.47.0
	google.golang.org/protobuf v1.36.12
)
