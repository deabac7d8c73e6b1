package frontend

import (
	"fmt"
	"strings"

	"github.com/dlc-project/dlc/frontend/jsontree"
	"github.com/dlc-project/dlc/ir"
)

// Loss names (Keras's). Aliases (mean_squared_error, …) are resolved to
// these when a model is loaded.
const (
	LossCategoricalCE       = "categorical_crossentropy"
	LossSparseCategoricalCE = "sparse_categorical_crossentropy"
	LossBinaryCE            = "binary_crossentropy"
	LossMSE                 = "mse"
	LossMAE                 = "mae"
	LossHuber               = "huber"
)

// lossAliases maps every accepted loss name (Keras's long names included)
// to its canonical name.
var lossAliases = map[string]string{
	LossCategoricalCE: LossCategoricalCE, LossSparseCategoricalCE: LossSparseCategoricalCE,
	LossBinaryCE: LossBinaryCE, LossMSE: LossMSE, "mean_squared_error": LossMSE,
	LossMAE: LossMAE, "mean_absolute_error": LossMAE, LossHuber: LossHuber, "huber_loss": LossHuber,
}

// CanonicalLoss returns the canonical name of a loss name or alias, and
// whether it is known.
func CanonicalLoss(name string) (string, bool) {
	c, ok := lossAliases[name]
	return c, ok
}

// LossOptions are the settings of a loss besides its name.
type LossOptions struct {
	// FromLogits says the model's output holds logits, not probabilities
	// (the cross-entropies; Keras's from_logits).
	FromLogits bool
	// Delta is Huber's threshold between the quadratic and the linear
	// part; 0 means Keras's and torch's default, 1.
	Delta float64
}

// SparseLabels reports whether loss takes integer class labels (y of width
// 1 holding the class index as a float) instead of a target shaped like
// the output.
func SparseLabels(loss string) bool { return loss == LossSparseCategoricalCE }

// LossError is a loss that does not fit the model's output. Loaders point
// it at the "loss" field.
type LossError struct{ Err error }

func (e *LossError) Error() string { return "loss: " + e.Err.Error() }

func (e *LossError) Unwrap() error { return e.Err }

// targetType is the type of train_step's y for the model's output out.
func (md *Model) targetType(out Tensor) ir.Type {
	if SparseLabels(md.Loss) && len(out.Shape()) == 2 {
		return ir.Type{DType: out.Type().DType, Shape: ir.Shape{out.Shape()[0], ir.C(1)}}
	}
	return out.Type()
}

// lossGraph traces the loss of out against the target y. logits, when the
// last layer ends in softmax, is that softmax's input.
func (md *Model) lossGraph(out, y Tensor, logits *Tensor) (Tensor, error) {
	loss, err := md.traceLoss(out, y, logits)
	if err != nil {
		return loss, &LossError{err}
	}
	return loss, nil
}

func (md *Model) traceLoss(out, y Tensor, logits *Tensor) (Tensor, error) {
	shape := out.Shape()
	name := md.Loss
	lastAct := func() string {
		if out.V.Op == ir.OpSoftmax || out.V.Op == ir.OpSigmoid {
			return out.V.Op
		}
		return ""
	}
	switch name {
	case LossCategoricalCE, LossSparseCategoricalCE:
		if len(shape) != 2 || !shape[1].IsConst() {
			return out, fmt.Errorf("%s needs an output of shape [batch, classes], the model's is %s", name, shape)
		}
		classes := shape[1].Size
		if classes < 2 {
			return out, fmt.Errorf("%s needs at least 2 classes, the model's output has %d unit (use binary_crossentropy with a sigmoid)", name, classes)
		}
		if lastAct() == ir.OpSigmoid {
			return out, fmt.Errorf("%s needs a softmax (or, with from_logits, a linear) output, the model's ends in sigmoid (use binary_crossentropy)", name)
		}
		var logp Tensor
		switch {
		case md.LossOptions.FromLogits:
			if logits != nil {
				return out, fmt.Errorf("%s with from_logits needs a linear output, the model's ends in softmax", name)
			}
			logp = out.LogSoftmax(-1)
		case logits != nil:
			// softmax followed by cross-entropy: use log_softmax of the
			// logits, which is exact where log(softmax) underflows.
			logp = logits.LogSoftmax(-1)
		default:
			// As Keras: probabilities clipped away from 0 (here by adding
			// its epsilon) before the log.
			logp = out.Add(out.ScalarLike(1e-7)).Log()
		}
		target := y
		if name == LossSparseCategoricalCE {
			// The one-hot of the class index: y [N,1] == [0 … C-1].
			// A label outside 0…C-1 matches no class and adds 0 to the
			// loss; runtime/train refuses such labels before training.
			iota := make([]float64, classes)
			for i := range iota {
				iota[i] = float64(i)
			}
			ids := out.t.Const(ir.TensorOf(y.Type().DType, ir.C(classes)), iota...)
			target = y.bin(ir.OpEqual, ids).Cast(out.Type().DType)
		}
		return target.Mul(logp).Sum(false, 1).Mean(false, 0).Neg(), nil
	case LossBinaryCE:
		if lastAct() == ir.OpSoftmax {
			return out, fmt.Errorf("%s needs a sigmoid (or, with from_logits, a linear) output, the model's ends in softmax over %s units (use categorical_crossentropy)", name, shape[len(shape)-1])
		}
		var z *Tensor
		switch {
		case md.LossOptions.FromLogits:
			if lastAct() == ir.OpSigmoid {
				return out, fmt.Errorf("%s with from_logits needs a linear output, the model's ends in sigmoid", name)
			}
			z = &out
		case lastAct() == ir.OpSigmoid:
			// sigmoid followed by BCE: the logits form, exact where the
			// sigmoid rounds to 0 or 1 (as torch's BCEWithLogitsLoss).
			z = &Tensor{V: out.V.Args[0], t: out.t}
		}
		var el Tensor
		if z != nil {
			// max(z,0) − z·y + log(1 + e^−|z|)
			el = z.Relu().Sub(z.Mul(y)).Add(z.Abs().Neg().Exp().Add(z.ScalarLike(1)).Log())
		} else {
			// As Keras: p clipped to [ε, 1−ε], then ε added inside each log.
			eps := out.ScalarLike(1e-7)
			one := out.ScalarLike(1)
			p := out.Maximum(eps).Minimum(one.Sub(eps))
			el = y.Mul(p.Add(eps).Log()).Add(one.Sub(y).Mul(one.Sub(p).Add(eps).Log())).Neg()
		}
		return el.Mean(false, allAxes(len(shape))...), nil
	case LossMSE, LossMAE, LossHuber:
		if md.LossOptions.FromLogits {
			return out, fmt.Errorf("%s takes no from_logits", name)
		}
		d := out.Sub(y)
		var el Tensor
		switch name {
		case LossMSE:
			el = d.Mul(d)
		case LossMAE:
			el = d.Abs()
		default:
			delta := md.LossOptions.Delta
			if delta == 0 {
				delta = 1
			}
			if !(delta > 0) {
				return out, fmt.Errorf("huber delta must be positive, is %v", delta)
			}
			// With q = min(|d|, δ): ½q² + δ(|d| − q), which is ½d² for
			// |d| ≤ δ and δ(|d| − ½δ) beyond (Keras's Huber, torch's
			// HuberLoss), and is differentiable through existing ops.
			a := d.Abs()
			q := a.Minimum(d.ScalarLike(delta))
			el = q.Mul(q).Mul(d.ScalarLike(0.5)).Add(a.Sub(q).Mul(d.ScalarLike(delta)))
		}
		return el.Mean(false, allAxes(len(shape))...), nil
	}
	return out, fmt.Errorf("unknown loss %q (known: %s)", name, strings.Join(Losses, ", "))
}

// schemaLoss reads "loss": a name, or an object {"type": name,
// "from_logits": bool, "delta": number}.
func schemaLoss(n *jsontree.Node, md *Model) error {
	var name string
	var err error
	tn := n
	if n.Kind == jsontree.Object {
		tn = n.Get("type")
		if tn == nil {
			return n.Errorf(`missing field "type" (one of %s)`, strings.Join(Losses, ", "))
		}
	}
	if name, err = tn.AsString(); err != nil {
		return err
	}
	canon, ok := CanonicalLoss(name)
	if !ok {
		return tn.Errorf("unknown loss %q (known: %s)", name, strings.Join(Losses, ", "))
	}
	md.Loss = canon
	if n.Kind != jsontree.Object {
		return nil
	}
	fields := []string{"type"}
	switch canon {
	case LossCategoricalCE, LossSparseCategoricalCE, LossBinaryCE:
		fields = append(fields, "from_logits")
		if fn := n.Get("from_logits"); fn != nil {
			if md.LossOptions.FromLogits, err = fn.AsBool(); err != nil {
				return err
			}
		}
	case LossHuber:
		fields = append(fields, "delta")
		if fn := n.Get("delta"); fn != nil {
			if md.LossOptions.Delta, err = fn.AsFloat(); err != nil {
				return err
			}
			if !(md.LossOptions.Delta > 0) || md.LossOptions.Delta > 1e30 {
				return fn.Errorf("delta must be a positive number, is %v", md.LossOptions.Delta)
			}
		}
	}
	return n.CheckUnknown(fields...)
}

// Metric names. Keras's names for them are accepted too (metricAliases).
const (
	MetricAccuracy = "accuracy"
	MetricTopK     = "top_k_accuracy"
)

// metricAliases maps Keras's metric names to dlc's. Accuracy is the
// argmax's hit rate for several outputs and a 0.5 threshold for one
// (runtime/train), which covers Keras's categorical, sparse and binary
// accuracy alike; top-k likewise covers the sparse variant, since labels
// reach runtime/train as class indices either way.
var metricAliases = map[string]string{
	MetricAccuracy: MetricAccuracy, "acc": MetricAccuracy, "categorical_accuracy": MetricAccuracy,
	"sparse_categorical_accuracy": MetricAccuracy, "binary_accuracy": MetricAccuracy,
	MetricTopK: MetricTopK, "top_k_categorical_accuracy": MetricTopK, "sparse_top_k_categorical_accuracy": MetricTopK,
}

// defaultTopK is Keras's k of top_k_categorical_accuracy.
const defaultTopK = 5

// schemaMetrics reads "metrics": names, or objects {"type":
// "top_k_accuracy", "k": 3}.
func schemaMetrics(n *jsontree.Node, md *Model) error {
	if err := n.Expect(jsontree.Array); err != nil {
		return err
	}
	for _, it := range n.Items {
		tn := it
		if it.Kind == jsontree.Object {
			if tn = it.Get("type"); tn == nil {
				return it.Errorf(`missing field "type" (accuracy or top_k_accuracy)`)
			}
		}
		s, err := tn.AsString()
		if err != nil {
			return err
		}
		canon, ok := metricAliases[s]
		if !ok {
			return tn.Errorf("unknown metric %q (known: accuracy, top_k_accuracy and their Keras names)", s)
		}
		for _, m := range md.Metrics {
			if m == canon {
				return tn.Errorf("metric %s is given twice", canon)
			}
		}
		md.Metrics = append(md.Metrics, canon)
		if canon != MetricTopK {
			if it.Kind == jsontree.Object {
				if err := it.CheckUnknown("type"); err != nil {
					return err
				}
			}
			continue
		}
		md.TopK = defaultTopK
		if it.Kind == jsontree.Object {
			if kn := it.Get("k"); kn != nil {
				k, err := kn.AsInt()
				if err != nil {
					return err
				}
				if k < 1 || k > 1<<24 {
					return kn.Errorf("k must be a positive integer, is %d", k)
				}
				md.TopK = int(k)
			}
			if err := it.CheckUnknown("type", "k"); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkMetrics checks that the metrics fit the model's output shape:
// top-k needs [batch, classes] with k <= classes (Keras allows k =
// classes, where the metric is always 1).
func (md *Model) checkMetrics(s ir.Shape) error {
	if md.TopK == 0 {
		return nil
	}
	if len(s) != 2 || !s[1].IsConst() {
		return fmt.Errorf("metric top_k_accuracy needs an output of shape [batch, classes], the model's is %s", s)
	}
	if int64(md.TopK) > s[1].Size {
		return fmt.Errorf("metric top_k_accuracy: k = %d is more than the model's %d classes", md.TopK, s[1].Size)
	}
	return nil
}
