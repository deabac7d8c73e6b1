package frontend

import (
	"errors"
	"sort"
	"strings"

	"github.com/dlc-project/dlc/frontend/jsontree"
	"github.com/dlc-project/dlc/passes"
)

// The loss and the metrics a Keras file was compiled with: Keras 3's
// "compile_config" (next to "config") and the "training_config" of a TF.js
// modelTopology (Keras 2's). The optimizer is not read: its settings come
// from the command line (see docs/model-json.md).

// kerasLossClasses maps Keras's loss classes to dlc's losses.
var kerasLossClasses = map[string]string{
	"CategoricalCrossentropy": LossCategoricalCE, "SparseCategoricalCrossentropy": LossSparseCategoricalCE,
	"BinaryCrossentropy": LossBinaryCE, "MeanSquaredError": LossMSE, "MeanAbsoluteError": LossMAE, "Huber": LossHuber,
}

// kerasMetricClasses maps Keras's metric classes to dlc's metrics.
var kerasMetricClasses = map[string]string{
	"Accuracy": MetricAccuracy, "CategoricalAccuracy": MetricAccuracy, "SparseCategoricalAccuracy": MetricAccuracy,
	"BinaryAccuracy": MetricAccuracy, "TopKCategoricalAccuracy": MetricTopK, "SparseTopKCategoricalAccuracy": MetricTopK,
}

func sortedKeys(m map[string]string) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// kerasCompileConfig reads the loss and metrics of cc (a compile_config or
// training_config object) into md; it returns the loss node, for errors.
func kerasCompileConfig(cc *jsontree.Node, md *Model) (*jsontree.Node, error) {
	if err := cc.Expect(jsontree.Object); err != nil {
		return nil, err
	}
	// Everything else of a compile config is about the optimizer (read
	// from the command line instead), weighting that dlc's single-output
	// models do not have, or how Keras runs a step.
	for _, k := range cc.Keys {
		if k != "loss" && k != "metrics" {
			cc.Ignore(k)
		}
	}
	ln := cc.Get("loss")
	if ln != nil && ln.Kind != jsontree.Null {
		if err := kerasLoss(ln, md); err != nil {
			return nil, err
		}
	}
	if mn := cc.Get("metrics"); mn != nil && mn.Kind != jsontree.Null {
		if err := mn.Expect(jsontree.Array); err != nil {
			return nil, err
		}
		for _, it := range mn.Items {
			if err := kerasMetric(it, md); err != nil {
				return nil, err
			}
		}
	}
	return ln, nil
}

func kerasLoss(n *jsontree.Node, md *Model) error {
	if n.Kind == jsontree.String {
		canon, ok := CanonicalLoss(n.Str)
		if !ok {
			return n.Errorf("loss %q is not supported (supported: %s)", n.Str, strings.Join(Losses, ", "))
		}
		md.Loss = canon
		return nil
	}
	if err := n.Expect(jsontree.Object); err != nil {
		return err
	}
	cn := n.Get("class_name")
	if cn == nil {
		return n.Errorf(`missing field "class_name"`)
	}
	class, err := cn.AsString()
	if err != nil {
		return err
	}
	canon, ok := kerasLossClasses[class]
	if !ok {
		return cn.Errorf("loss class %q is not supported (supported: %s)", class, sortedKeys(kerasLossClasses))
	}
	md.Loss = canon
	n.Ignore("module", "registered_name")
	cfg := n.Get("config")
	if err := checkUnknownIn(n, "the loss"); err != nil {
		return err
	}
	if cfg == nil || cfg.Kind == jsontree.Null {
		return nil
	}
	if err := cfg.Expect(jsontree.Object); err != nil {
		return err
	}
	cfg.Ignore("name", "dtype")
	if r := cfg.Get("reduction"); r != nil && r.Kind != jsontree.Null {
		s, err := r.AsString()
		if err != nil {
			return err
		}
		if s != "sum_over_batch_size" && s != "auto" {
			return r.Errorf("reduction %q is not supported (dlc's losses are means over the batch: sum_over_batch_size)", s)
		}
	}
	if fn := cfg.Get("from_logits"); fn != nil && fn.Kind != jsontree.Null {
		if md.LossOptions.FromLogits, err = fn.AsBool(); err != nil {
			return err
		}
	}
	if fn := cfg.Get("label_smoothing"); fn != nil && fn.Kind != jsontree.Null {
		v, err := fn.AsFloat()
		if err != nil {
			return err
		}
		if v != 0 {
			return fn.Errorf("label_smoothing %v is not supported (it must be 0)", v)
		}
	}
	if fn := cfg.Get("axis"); fn != nil && fn.Kind != jsontree.Null {
		if v, err := fn.AsInt(); err != nil || v != -1 {
			return fn.Errorf("axis is not supported (it must be -1, the classes)")
		}
	}
	if fn := cfg.Get("ignore_class"); fn != nil && fn.Kind != jsontree.Null {
		return fn.Errorf("ignore_class is not supported (it must be null)")
	}
	if fn := cfg.Get("delta"); fn != nil && fn.Kind != jsontree.Null {
		if md.LossOptions.Delta, err = fn.AsFloat(); err != nil {
			return err
		}
		if !(md.LossOptions.Delta > 0) {
			return fn.Errorf("delta must be a positive number, is %v", md.LossOptions.Delta)
		}
	}
	return checkUnknownIn(cfg, "the loss's config")
}

func kerasMetric(n *jsontree.Node, md *Model) error {
	var canon string
	k := 0
	switch n.Kind {
	case jsontree.String:
		c, ok := metricAliases[n.Str]
		if !ok {
			return n.Errorf("metric %q is not supported (supported: accuracy, top_k_categorical_accuracy and their variants)", n.Str)
		}
		canon = c
	default:
		if err := n.Expect(jsontree.Object); err != nil {
			return err
		}
		cn := n.Get("class_name")
		if cn == nil {
			return n.Errorf(`missing field "class_name"`)
		}
		class, err := cn.AsString()
		if err != nil {
			return err
		}
		c, ok := kerasMetricClasses[class]
		if !ok {
			return cn.Errorf("metric class %q is not supported (supported: %s)", class, sortedKeys(kerasMetricClasses))
		}
		canon = c
		n.Ignore("module", "registered_name", "shared_object_id")
		cfg := n.Get("config")
		if err := checkUnknownIn(n, "the metric"); err != nil {
			return err
		}
		if cfg != nil && cfg.Kind == jsontree.Object {
			cfg.Ignore("name", "dtype")
			if kn := cfg.Get("k"); kn != nil && kn.Kind != jsontree.Null {
				v, err := kn.AsInt()
				if err != nil {
					return err
				}
				if v < 1 || v > 1<<24 {
					return kn.Errorf("k must be a positive integer, is %d", v)
				}
				k = int(v)
			}
			if tn := cfg.Get("threshold"); tn != nil && tn.Kind != jsontree.Null {
				if v, err := tn.AsFloat(); err != nil || v != 0.5 {
					return tn.Errorf("threshold is not supported (it must be 0.5)")
				}
			}
			if err := checkUnknownIn(cfg, "the metric's config"); err != nil {
				return err
			}
		}
	}
	for _, m := range md.Metrics {
		if m == canon {
			return nil // Keras lists accuracy under several names
		}
	}
	md.Metrics = append(md.Metrics, canon)
	if canon == MetricTopK {
		md.TopK = defaultTopK
		if k > 0 {
			md.TopK = k
		}
	}
	return nil
}

// checkKerasCompiled traces the model with the loss it was compiled with
// (and a placeholder optimizer, since the file's is not read) so that a
// loss or a top-k metric that does not fit the output is reported at the
// compile config's field.
func checkKerasCompiled(md *Model, cc, lossNode *jsontree.Node) error {
	if md.Loss == "" && md.TopK == 0 {
		return nil
	}
	tmp := *md
	if tmp.Loss != "" {
		tmp.Optimizer = passes.Adam(0.001)
	}
	m, err := tmp.Build()
	var le *LossError
	if errors.As(err, &le) && lossNode != nil {
		return lossNode.Errorf("%v", le.Err)
	}
	if err != nil {
		return err
	}
	if err := md.checkMetrics(m.Func(passes.Predict).Results[0].Type.Shape); err != nil {
		return cc.Get("metrics").Errorf("%v", err)
	}
	return nil
}
