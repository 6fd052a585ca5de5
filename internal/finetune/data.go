package finetune

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keenml/keen/eager/data"
	"github.com/keenml/keen/internal/demodata"
	"github.com/keenml/keen/ir"
)

// DefaultFashionMNIST is where Debian's dataset-fashion-mnist installs the set.
const DefaultFashionMNIST = "/usr/share/datasets/fashion-mnist"

// LoadData resolves a --data value: "fashion-mnist" (Debian's folder),
// "fashion-mnist=DIR", or "embedded" (the subset built into the binary).
func LoadData(spec string) (train, test *data.Dataset, err error) {
	name, dir, _ := strings.Cut(spec, "=")
	switch name {
	case "embedded":
		return embedded()
	case "fashion-mnist", "mnist":
		if dir == "" {
			dir = DefaultFashionMNIST
		}
		return loadIDXDir(dir)
	}
	return nil, nil, fmt.Errorf("finetune: unknown --data %q (want fashion-mnist[=DIR] or embedded)", spec)
}

func embedded() (*data.Dataset, *data.Dataset, error) {
	ti, tl, err := demodata.Train()
	if err != nil {
		return nil, nil, err
	}
	vi, vl, err := demodata.Test()
	if err != nil {
		return nil, nil, err
	}
	train, err := data.New(ti, tl)
	if err != nil {
		return nil, nil, err
	}
	test, err := data.New(vi, vl)
	return train, test, err
}

// loadIDXDir reads train-/t10k- images and labels (gzip or not) from dir.
func loadIDXDir(dir string) (*data.Dataset, *data.Dataset, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("finetune: data folder: %w (install Debian's dataset-fashion-mnist or pass fashion-mnist=DIR)", err)
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("finetune: data folder %s is not a folder", dir)
	}
	read := func(prefix string) (*data.Dataset, error) {
		img, err := readIDX(dir, prefix+"-images-idx3-ubyte")
		if err != nil {
			return nil, err
		}
		lab, err := readIDX(dir, prefix+"-labels-idx1-ubyte")
		if err != nil {
			return nil, err
		}
		if img.Rank() != 3 || lab.Rank() != 1 {
			return nil, fmt.Errorf("finetune: %s: images %v and labels %v, want [N,H,W] and [N]", dir, img.Shape, lab.Shape)
		}
		ds, err := data.New(img, lab)
		if err != nil {
			return nil, fmt.Errorf("finetune: %s %s: %w", dir, prefix, err)
		}
		return ds, nil
	}
	train, err := read("train")
	if err != nil {
		return nil, nil, err
	}
	test, err := read("t10k")
	return train, test, err
}

func readIDX(dir, base string) (*ir.Tensor, error) {
	for _, name := range []string{base + ".gz", base} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return data.ReadIDXFile(p)
		}
	}
	return nil, fmt.Errorf("finetune: %s: no %s.gz or %s", dir, base, base)
}
