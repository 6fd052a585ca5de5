package adam

import "math"

// sqrt32 is the float32 square root (correctly rounded through float64,
// as VSQRTPS is).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
