package onnx

import "github.com/keenml/keen/ir"

// Temporary until the decoder lands.
func ReadModel(path string) (*ir.Model, error)                 { panic("todo") }
func DecodeValue(data []byte, want *ir.Type) (ir.Value, error) { panic("todo") }
func ReadTensor(path string) (*ir.Tensor, error)               { panic("todo") }
func WriteTensor(path string, t *ir.Tensor) error              { panic("todo") }
func ReadNpy(path string) (*ir.Tensor, error)                  { panic("todo") }
func EncodeValue(v ir.Value) ([]byte, error)                   { panic("todo") }
