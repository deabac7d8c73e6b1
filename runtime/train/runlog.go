package train

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dlc-project/dlc/runtime/train/plot"
)

// A run directory holds what a training run leaves behind:
//
//	checkpoint-epoch-NNN.safetensors  weights and optimizer state after epoch NNN
//	log.csv                           one row per epoch
//	plot.png                          loss and accuracy per epoch (train and test)
//
// Each file is rewritten atomically after every epoch, so a run killed at
// any moment leaves a consistent directory to resume from.

// Names of the files of a run directory.
const (
	LogName  = "log.csv"
	PlotName = "plot.png"
)

var logHeader = []string{"epoch", "loss", "accuracy", "test_loss", "test_accuracy", "seconds", "samples_per_sec"}

// runLog is the per-epoch history of a run directory.
type runLog struct {
	dir, model string
	rows       []EpochStats
}

// openRunLog starts the history of dir; a resumed run keeps the rows of
// the epochs up to after (those of a longer earlier run are dropped).
func openRunLog(dir, model string, after int) (*runLog, error) {
	l := &runLog{dir: dir, model: model}
	if after == 0 {
		return l, nil
	}
	f, err := os.Open(filepath.Join(dir, LogName))
	if os.IsNotExist(err) {
		return l, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := readLog(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, LogName), err)
	}
	for _, r := range rows {
		if r.Epoch <= after {
			l.rows = append(l.rows, r)
		}
	}
	return l, nil
}

// add records an epoch and rewrites log.csv and plot.png.
func (l *runLog) add(st EpochStats) error {
	l.rows = append(l.rows, st)
	var buf bytes.Buffer
	if err := writeLog(&buf, l.rows); err != nil {
		return err
	}
	if err := writeAtomically(filepath.Join(l.dir, LogName), func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	}); err != nil {
		return err
	}
	pts := make([]plot.Point, len(l.rows))
	for i, r := range l.rows {
		pts[i] = plot.Point{Epoch: r.Epoch, Loss: r.Loss, Accuracy: r.Accuracy, TestLoss: math.NaN(), TestAccuracy: math.NaN()}
		if r.TestLoss != nil {
			pts[i].TestLoss, pts[i].TestAccuracy = *r.TestLoss, *r.TestAccuracy
		}
	}
	return writeAtomically(filepath.Join(l.dir, PlotName), func(w io.Writer) error {
		return plot.WritePNG(w, l.model, pts)
	})
}

func writeLog(w io.Writer, rows []EpochStats) error {
	cw := csv.NewWriter(w)
	cw.Write(logHeader)
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 8, 64) }
	for _, r := range rows {
		tl, ta := "", ""
		if r.TestLoss != nil {
			tl, ta = f(*r.TestLoss), f(*r.TestAccuracy)
		}
		cw.Write([]string{strconv.Itoa(r.Epoch), f(r.Loss), f(r.Accuracy), tl, ta, f(r.Seconds), f(r.SamplesPerSec)})
	}
	cw.Flush()
	return cw.Error()
}

func readLog(r io.Reader) ([]EpochStats, error) {
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || len(recs[0]) != len(logHeader) || recs[0][0] != logHeader[0] {
		return nil, fmt.Errorf("not a dlc training log (header %v)", logHeader)
	}
	var out []EpochStats
	for i, rec := range recs[1:] {
		var st EpochStats
		var vals [6]float64
		var err error
		if st.Epoch, err = strconv.Atoi(rec[0]); err != nil {
			return nil, fmt.Errorf("line %d: epoch %q: %v", i+2, rec[0], err)
		}
		for j := range vals {
			if rec[j+1] == "" {
				vals[j] = math.NaN()
				continue
			}
			if vals[j], err = strconv.ParseFloat(rec[j+1], 64); err != nil {
				return nil, fmt.Errorf("line %d: %s %q: %v", i+2, logHeader[j+1], rec[j+1], err)
			}
		}
		st.Loss, st.Accuracy, st.Seconds, st.SamplesPerSec = vals[0], vals[1], vals[4], vals[5]
		if !math.IsNaN(vals[2]) {
			tl, ta := vals[2], vals[3]
			st.TestLoss, st.TestAccuracy = &tl, &ta
		}
		out = append(out, st)
	}
	return out, nil
}
