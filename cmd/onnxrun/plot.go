package main

import "github.com/keenml/keen/internal/finetune"

// plotRun draws loss and accuracy to path (.svg or .png).
func plotRun(path string, res *finetune.Result) error { return finetune.Plot(path, res) }
