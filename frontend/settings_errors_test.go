package frontend

import "testing"

// TestBadTrainingSettings lists the training settings issue 5 names (an
// unknown optimizer, a learning rate that is not positive, a schedule
// without its period, a loss that does not fit the output, a negative
// dropout rate) with the error each gets: the place of the offending
// value, its path, and what is wrong.
func TestBadTrainingSettings(t *testing.T) {
	doc := func(layers, rest string) string {
		return `{"input": {"shape": [4]}, "layers": [` + layers + `]` + rest + `}`
	}
	const d3 = `{"type": "dense", "units": 3}`
	for _, c := range []struct{ doc, want string }{
		{doc(d3, `, "loss": "mse", "optimizer": {"type": "adamax"}`),
			`model.json:1:107: optimizer.type: unknown optimizer "adamax" (known: sgd, adam, adamw, adagrad, rmsprop)`},
		{doc(d3, `, "loss": "mse", "optimizer": {"type": "sgd", "learning_rate": -0.1}`),
			`model.json:1:131: optimizer.learning_rate: optimizer sgd: learning_rate is -0.1, want a positive number`},
		{doc(d3, `, "loss": "mse", "optimizer": {"type": "sgd", "learning_rate": 0}`),
			`model.json:1:131: optimizer.learning_rate: optimizer sgd: learning_rate is 0, want a positive number`},
		{doc(d3, `, "loss": "mse", "optimizer": {"type": "sgd", "schedule": {"type": "step"}}`),
			`model.json:1:126: optimizer.schedule: schedule step needs "step_size", the number of steps of its period`},
		{doc(d3, `, "loss": "mse", "optimizer": {"type": "sgd", "schedule": {"type": "cosine", "t_max": 0}}`),
			`model.json:1:154: optimizer.schedule.t_max: t_max must be a positive number of steps below 2^24, is 0`},
		{doc(d3, `, "loss": "mse", "optimizer": {"type": "sgd", "schedule": {"type": "exponential"}}`),
			`model.json:1:126: optimizer.schedule: schedule exponential needs "gamma"`},
		{doc(d3, `, "loss": "mse", "optimizer": {"type": "sgd", "momentum": 1}`),
			`model.json:1:126: optimizer.momentum: optimizer sgd: momentum is 1, want a number in [0, 1)`},
		{doc(`{"type": "dense", "units": 1, "activation": "sigmoid"}`, `, "loss": "sparse_categorical_crossentropy", "optimizer": {"type": "sgd"}`),
			`model.json:1:103: loss: sparse_categorical_crossentropy needs at least 2 classes, the model's output has 1 unit (use binary_crossentropy with a sigmoid)`},
		{doc(`{"type": "dense", "units": 10, "activation": "softmax"}`, `, "loss": "binary_crossentropy", "optimizer": {"type": "sgd"}`),
			`model.json:1:104: loss: binary_crossentropy needs a sigmoid (or, with from_logits, a linear) output, the model's ends in softmax over 10 units (use categorical_crossentropy)`},
		{doc(`{"type": "dropout", "rate": -0.5}`, ``),
			`model.json:1:66: layers[0].rate: rate must be in [0, 1), is -0.5`},
		{doc(d3, `, "loss": "mse"`),
			`model.json:1:1: a model with a loss needs an "optimizer"`},
	} {
		loadErr(t, c.doc, c.want)
	}
}
