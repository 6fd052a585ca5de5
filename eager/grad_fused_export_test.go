package eager

// SetFusedGradients turns the fused gradient kernels on or off for a test
// and returns the previous setting.
func SetFusedGradients(on bool) bool { return fusedGrads.Swap(on) }
