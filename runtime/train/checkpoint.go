package train

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dlc-project/dlc/runtime"
)

// Checkpoints are safetensors files holding every weight and optimizer
// state tensor of a model (what the generated Weights method returns:
// Adam's moments, its beta powers, a schedule's step counter, …) and, in
// the safetensors metadata, where training stood:
//
//	format      "dlc-checkpoint/1"
//	model       the model's name
//	epoch       epochs completed
//	seed        the seed of initialisation and shuffling
//	batch_size  the batch size
//
// Resuming loads the tensors and continues with epoch+1, replaying the
// shuffles of the finished epochs, so a resumed run computes what the
// uninterrupted one computes (bit for bit with one worker).

// CheckpointFormat is the "format" metadata value of a checkpoint.
const CheckpointFormat = "dlc-checkpoint/1"

// Weighted is implemented by generated packages: their weight and
// optimizer-state tensors, backed by the model's own buffers.
type Weighted interface {
	Weights() []runtime.TensorRef
}

// CheckpointInfo is the metadata of a checkpoint.
type CheckpointInfo struct {
	Model     string
	Epoch     int
	Seed      uint64
	BatchSize int
}

// CheckpointName is the file name of the checkpoint after epoch.
func CheckpointName(epoch int) string {
	return fmt.Sprintf("checkpoint-epoch-%03d.safetensors", epoch)
}

// WriteCheckpoint writes m's tensors and info to path atomically: into a
// temporary file in the same directory, synced, then renamed over path,
// and the directory synced. A crash or kill at any point leaves either the
// previous file at path or the new one, never a partial file.
func WriteCheckpoint(path string, m Model, info CheckpointInfo) error {
	return writeCheckpoint(path, m, info, nil)
}

// writeCheckpoint is WriteCheckpoint with a hook that wraps the file's
// writer (tests use it to fail in the middle of writing).
func writeCheckpoint(path string, m Model, info CheckpointInfo, wrap func(io.Writer) io.Writer) error {
	wm, ok := m.(Weighted)
	if !ok {
		return errors.New("checkpoint: this model does not expose its weights (no Weights method)")
	}
	meta := map[string]string{
		"format":     CheckpointFormat,
		"generator":  "dlc",
		"model":      info.Model,
		"epoch":      strconv.Itoa(info.Epoch),
		"seed":       strconv.FormatUint(info.Seed, 10),
		"batch_size": strconv.Itoa(info.BatchSize),
	}
	return writeAtomically(path, func(w io.Writer) error {
		if wrap != nil {
			w = wrap(w)
		}
		return runtime.WriteSafetensors(w, wm.Weights(), meta)
	})
}

// writeAtomically writes a file through a temporary file, fsync and
// rename (then fsyncs the directory, so that the rename itself is
// durable).
func writeAtomically(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(bw); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
	return nil
}

// ReadCheckpoint loads a checkpoint into m and returns its metadata. Every
// tensor of m must be in the file with its shape; on any error (naming the
// file and the tensor) m is left unchanged.
func ReadCheckpoint(path string, m Model) (CheckpointInfo, error) {
	var info CheckpointInfo
	wm, ok := m.(Weighted)
	if !ok {
		return info, errors.New("resume: this model does not expose its weights (no Weights method)")
	}
	f, err := os.Open(path)
	if err != nil {
		return info, fmt.Errorf("resume: %w", err)
	}
	defer f.Close()
	tensors, meta, err := runtime.ReadSafetensors(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return info, fmt.Errorf("resume: %s: %w", path, err)
	}
	if info, err = parseCheckpointInfo(path, meta); err != nil {
		return info, err
	}
	byName := map[string]runtime.TensorRef{}
	for _, t := range tensors {
		byName[t.Name] = t
	}
	refs := wm.Weights()
	for _, r := range refs {
		t, ok := byName[r.Name]
		switch {
		case !ok:
			return info, fmt.Errorf("resume: %s has no tensor %q (is it a checkpoint of this model?)", path, r.Name)
		case !slices.Equal(t.Shape, r.Shape):
			return info, fmt.Errorf("resume: %s: tensor %q has shape %v, the model's is %v", path, r.Name, t.Shape, r.Shape)
		}
	}
	for _, r := range refs {
		copy(r.Data, byName[r.Name].Data)
	}
	return info, nil
}

func parseCheckpointInfo(path string, meta map[string]string) (CheckpointInfo, error) {
	var info CheckpointInfo
	var err error
	if meta["format"] != CheckpointFormat {
		return info, fmt.Errorf("resume: %s is not a dlc checkpoint (metadata format %q, want %q)", path, meta["format"], CheckpointFormat)
	}
	info.Model = meta["model"]
	if info.Epoch, err = strconv.Atoi(meta["epoch"]); err != nil || info.Epoch < 0 {
		return info, fmt.Errorf("resume: %s: bad epoch %q in the metadata", path, meta["epoch"])
	}
	if info.Seed, err = strconv.ParseUint(meta["seed"], 10, 64); err != nil {
		return info, fmt.Errorf("resume: %s: bad seed %q in the metadata", path, meta["seed"])
	}
	if info.BatchSize, err = strconv.Atoi(meta["batch_size"]); err != nil || info.BatchSize <= 0 {
		return info, fmt.Errorf("resume: %s: bad batch_size %q in the metadata", path, meta["batch_size"])
	}
	return info, nil
}

// LatestCheckpoint returns the checkpoint of the highest epoch in dir.
func LatestCheckpoint(dir string) (string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "checkpoint-epoch-*.safetensors"))
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", fmt.Errorf("resume: no checkpoint-epoch-*.safetensors in %s", dir)
	}
	sort.Slice(names, func(i, j int) bool { return epochOf(names[i]) < epochOf(names[j]) })
	return names[len(names)-1], nil
}

func epochOf(path string) int {
	s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "checkpoint-epoch-"), ".safetensors")
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
