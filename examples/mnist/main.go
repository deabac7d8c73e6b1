// Command mnist trains the classic Keras MNIST example (784 → 64 relu → 64
// relu → 10 softmax, Adam, batch 128, 5 epochs) with the Go package that
// dlc generated from model.json into ./model, then reports test loss and
// accuracy on the 10,000 test images.
//
//	go run ./examples/mnist [-epochs N] [-batch N] [-seed N] [-json] [-data DIR]
package main

//go:generate go run ../../cmd/dlc compile model.json -o model -pkg model

import (
	"github.com/dlc-project/dlc/examples/mnist/model"
	"github.com/dlc-project/dlc/runtime/train"
)

func main() {
	train.Main(func(maxBatch int, seed uint64, workers int) train.Model {
		return model.New(model.Options{MaxBatch: maxBatch, Seed: seed, Workers: workers})
	}, train.Defaults{Name: "mnist_mlp", Epochs: 5, BatchSize: 128, Shuffle: true})
}
