package optim

import "math"

// Schedule gives the learning rate for a step (0-based).
type Schedule func(step int) float64

// StepDecay multiplies lr by gamma every `every` steps.
func StepDecay(lr float64, every int, gamma float64) Schedule {
	return func(step int) float64 { return lr * math.Pow(gamma, float64(step/max(every, 1))) }
}

// Exponential multiplies lr by gamma each step.
func Exponential(lr, gamma float64) Schedule {
	return func(step int) float64 { return lr * math.Pow(gamma, float64(step)) }
}

// Cosine anneals from lr to minLR over total steps.
func Cosine(lr, minLR float64, total int) Schedule {
	return func(step int) float64 {
		if step >= total {
			return minLR
		}
		return minLR + (lr-minLR)*(1+math.Cos(math.Pi*float64(step)/float64(total)))/2
	}
}

// Warmup ramps linearly from 0 over `steps` steps, then follows next.
func Warmup(steps int, next Schedule) Schedule {
	return func(step int) float64 {
		if step < steps {
			return next(0) * float64(step+1) / float64(steps)
		}
		return next(step - steps)
	}
}
