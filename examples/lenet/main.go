// Command lenet trains LeNet-5 on MNIST (conv 6@5×5 same, relu, max pool 2;
// conv 16@5×5 valid, relu, max pool 2; dense 120 relu, 84 relu, 10 softmax;
// Adam, batch 128, 5 epochs) with the Go package that dlc generated from
// model.json into ./model, then reports test loss and accuracy on the
// 10,000 test images.
//
//	go run ./examples/lenet [-epochs N] [-batch N] [-seed N] [-json] [-data DIR]
package main

//go:generate go run ../../cmd/dlc compile model.json -o model -pkg model

import (
	"github.com/dlc-project/dlc/examples/lenet/model"
	"github.com/dlc-project/dlc/runtime/train"
)

func main() {
	train.Main(func(maxBatch int, seed uint64, workers int) train.Model {
		return model.New(model.Options{MaxBatch: maxBatch, Seed: seed, Workers: workers})
	}, train.Defaults{Name: "lenet", Epochs: 5, BatchSize: 128, Shuffle: true})
}
