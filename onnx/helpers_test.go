package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// backendTests returns the ONNX backend test folder or skips the test.
func backendTests(t testing.TB) string {
	t.Helper()
	dir := findBackendTests()
	if dir == "" {
		t.Skip("shared/onnx-backend-tests not found")
	}
	return dir
}

// findBackendTests looks for shared/onnx-backend-tests in the package's
// folder and its parents; "" when absent.
func findBackendTests() string {
	dir, err := filepath.Abs(".")
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "shared", "onnx-backend-tests")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// same is reflect.DeepEqual with NaN-aware floats (compared by bits) and
// nil slices equal to empty ones.
func same(a, b any) bool { return diff(a, b) == "" }

// diff is the path of the first difference same finds, or "".
func diff(a, b any) string { return diffValue(reflect.ValueOf(a), reflect.ValueOf(b), "$") }

func diffValue(a, b reflect.Value, path string) string {
	if !a.IsValid() || !b.IsValid() {
		if a.IsValid() != b.IsValid() {
			return path + " (nil vs non-nil)"
		}
		return ""
	}
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s (%v vs %v)", path, a.Type(), b.Type())
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return path + " (nil vs non-nil)"
			}
			return ""
		}
		return diffValue(a.Elem(), b.Elem(), path)
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s (len %d vs %d)", path, a.Len(), b.Len())
		}
		for i := 0; i < a.Len(); i++ {
			if d := diffValue(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if d := diffValue(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); d != "" {
				return d
			}
		}
		return ""
	case reflect.Float32:
		if math.Float32bits(float32(a.Float())) != math.Float32bits(float32(b.Float())) {
			return fmt.Sprintf("%s (%v vs %v)", path, a.Float(), b.Float())
		}
		return ""
	case reflect.Float64:
		if math.Float64bits(a.Float()) != math.Float64bits(b.Float()) {
			return fmt.Sprintf("%s (%v vs %v)", path, a.Float(), b.Float())
		}
		return ""
	case reflect.Complex64, reflect.Complex128:
		x, y := a.Complex(), b.Complex()
		if d := diffValue(reflect.ValueOf(real(x)), reflect.ValueOf(real(y)), path+".real"); d != "" {
			return d
		}
		return diffValue(reflect.ValueOf(imag(x)), reflect.ValueOf(imag(y)), path+".imag")
	case reflect.Map:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			return path
		}
		return ""
	}
	if a.Interface() != b.Interface() {
		return fmt.Sprintf("%s (%v vs %v)", path, a.Interface(), b.Interface())
	}
	return ""
}
