// Package pluginpb is the generated Go code of backend.proto, the protocol
// between Keen and its backend plugins.
package pluginpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative backend.proto
