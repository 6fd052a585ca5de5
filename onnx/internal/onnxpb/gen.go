// Package onnxpb holds the Go types generated from keen_onnx.proto, Keen's
// copy of the ONNX wire format. It is internal: the rest of Keen sees ONNX
// models only as ir values, through package onnx.
//
// Regenerating needs protoc and protoc-gen-go at the version of
// google.golang.org/protobuf in go.mod:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
package onnxpb

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative keen_onnx.proto
