package frontend

import (
	"fmt"
	"strings"
	"testing"
)

// kerasCompiled is a Keras 3 Sequential of two Dense layers (the last with
// units outputs and activation act) compiled with compile_config cc.
func kerasCompiled(units int, act, cc string) string {
	d2 := strings.Replace(kDense("out", units, ""), `"activation": "relu"`, `"activation": "`+act+`"`, 1)
	return `{"module": "keras", "class_name": "Sequential", "config": {"name": "c", "layers": [` +
		kDense("d1", 8, `"batch_input_shape": [null, 4]`) + `, ` + d2 + `]}, "compile_config": ` + cc + `}`
}

func TestKerasCompileConfig(t *testing.T) {
	for _, c := range []struct {
		units   int
		act, cc string
		loss    string
		opts    LossOptions
		metrics string
		topK    int
	}{
		{3, "softmax", `{"loss": "categorical_crossentropy", "metrics": ["accuracy"], "jit_compile": false}`, LossCategoricalCE, LossOptions{}, "[accuracy]", 0},
		{3, "linear", `{"loss": {"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy", "config": {"name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size", "from_logits": true, "ignore_class": null}, "registered_name": null},
		  "metrics": [{"module": "keras.metrics", "class_name": "SparseTopKCategoricalAccuracy", "config": {"name": "top2", "dtype": "float32", "k": 2}, "registered_name": null}, "acc", "sparse_categorical_accuracy"]}`,
			LossSparseCategoricalCE, LossOptions{FromLogits: true}, "[top_k_accuracy accuracy]", 2},
		{1, "sigmoid", `{"loss": {"class_name": "BinaryCrossentropy", "config": {"from_logits": false, "label_smoothing": 0.0, "axis": -1, "reduction": "sum_over_batch_size"}}}`, LossBinaryCE, LossOptions{}, "[]", 0},
		{2, "linear", `{"loss": {"class_name": "Huber", "config": {"delta": 0.5}}, "metrics": null}`, LossHuber, LossOptions{Delta: 0.5}, "[]", 0},
		{2, "linear", `{"loss": "mean_absolute_error", "optimizer": {"class_name": "SGD"}}`, LossMAE, LossOptions{}, "[]", 0},
		{2, "linear", `{}`, "", LossOptions{}, "[]", 0},
	} {
		md := kerasLoad(t, kerasCompiled(c.units, c.act, c.cc))
		if md.Loss != c.loss || md.LossOptions != c.opts || fmt.Sprint(md.Metrics) != c.metrics || md.TopK != c.topK || md.Optimizer != nil {
			t.Errorf("%s: loss %q %+v metrics %v top-k %d optimizer %v; want %q %+v %s %d none", c.cc, md.Loss, md.LossOptions,
				md.Metrics, md.TopK, md.Optimizer, c.loss, c.opts, c.metrics, c.topK)
		}
	}
	for _, c := range []struct {
		units   int
		act, cc string
		want    string
	}{
		{3, "softmax", `{"loss": "hinge"}`, `compile_config.loss: loss "hinge" is not supported (supported: categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy, mse, mae, huber)`},
		{3, "softmax", `{"loss": {"class_name": "KLDivergence"}}`, `compile_config.loss.class_name: loss class "KLDivergence" is not supported`},
		{3, "softmax", `{"loss": {"class_name": "CategoricalCrossentropy", "config": {"label_smoothing": 0.1}}}`, `compile_config.loss.config.label_smoothing: label_smoothing 0.1 is not supported (it must be 0)`},
		{3, "softmax", `{"loss": {"class_name": "CategoricalCrossentropy", "config": {"reduction": "sum"}}}`, `reduction "sum" is not supported`},
		{3, "softmax", `{"loss": {"class_name": "CategoricalCrossentropy", "config": {"focal": true}}}`, `compile_config.loss.config.focal: unknown field "focal" in the loss's config`},
		{3, "softmax", `{"metrics": ["auc"]}`, `compile_config.metrics[0]: metric "auc" is not supported`},
		{1, "sigmoid", `{"loss": "sparse_categorical_crossentropy"}`, `compile_config.loss: sparse_categorical_crossentropy needs at least 2 classes, the model's output has 1 unit`},
		{10, "softmax", `{"loss": "binary_crossentropy"}`, `compile_config.loss: binary_crossentropy needs a sigmoid (or, with from_logits, a linear) output, the model's ends in softmax over 10 units`},
		{3, "softmax", `{"metrics": [{"class_name": "TopKCategoricalAccuracy", "config": {"k": 5}}]}`, `metric top_k_accuracy: k = 5 is more than the model's 3 classes`},
	} {
		loadErr(t, kerasCompiled(c.units, c.act, c.cc), c.want)
	}
}
