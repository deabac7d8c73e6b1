package compile

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
)

var updateAttentionIR = flag.Bool("update-attention-ir", false, "rewrite codegen/golang/testdata/attention_train.ir")

const attentionIR = "../codegen/golang/testdata/attention_train.ir"

const attentionIRHeader = `// The layer-norm + single-head attention block of compile/testdata/torchrefs
// (compile/torchrefs_test.go's buildAttention), with its train_step lowered
// by dlc's pipeline (autodiff, Adam; unfused): generated Go training code
// must match ir/interp step after step (codegen/golang's TestEndToEnd).
// Rewrite with: go test ./compile -run TestAttentionIR -update-attention-ir
`

// TestAttentionIR keeps the codegen end-to-end case of the attention block
// equal to what buildAttention lowers today.
func TestAttentionIR(t *testing.T) {
	m := buildAttention(t, passes.Adam(0.01))
	want := m.String()
	if *updateAttentionIR {
		if err := os.WriteFile(attentionIR, []byte(attentionIRHeader+want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(attentionIR)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ir.ParseModule(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want || !strings.HasPrefix(string(data), attentionIRHeader) {
		t.Errorf("%s is out of date: rewrite it with go test ./compile -run TestAttentionIR -update-attention-ir", attentionIR)
	}
}
