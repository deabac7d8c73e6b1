package runtime

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// LoadCSV reads a classification dataset from a CSV file: one sample per
// line, the class label (an integer 0…255) first, then the features, as in
// the common mnist_train.csv. A first line whose first field is not an
// integer is a header and skipped. Every feature is multiplied by scale
// (1/255 turns 0…255 pixels into MNIST's [0, 1]). The dataset has Rows 1
// and Cols = the number of features, which every line must have.
func LoadCSV(path string, scale float32) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	defer f.Close()
	ds, err := ReadCSV(bufio.NewReaderSize(f, 1<<20), scale)
	if err != nil {
		return nil, fmt.Errorf("csv: %s:%w", path, err)
	}
	return ds, nil
}

// ReadCSV is LoadCSV from a reader; errors start with the line number
// (":LINE: message").
func ReadCSV(r io.Reader, scale float32) (*Dataset, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // checked below, with a clearer message
	ds := &Dataset{Rows: 1}
	line := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%d: %v", pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%d: %v", line, err)
		}
		label, lerr := strconv.Atoi(strings.TrimSpace(rec[0]))
		if line == 1 && lerr != nil {
			continue // a header
		}
		if lerr != nil || label < 0 || label > 255 {
			return nil, fmt.Errorf("%d: label %q is not an integer in 0…255", line, rec[0])
		}
		if ds.Cols == 0 {
			ds.Cols = len(rec) - 1
			if ds.Cols == 0 {
				return nil, fmt.Errorf("%d: a label but no features", line)
			}
		}
		if len(rec)-1 != ds.Cols {
			return nil, fmt.Errorf("%d: %d features, the first sample has %d", line, len(rec)-1, ds.Cols)
		}
		for j, s := range rec[1:] {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 32)
			if err != nil {
				return nil, fmt.Errorf("%d: feature %d: %q is not a number", line, j+1, s)
			}
			ds.Images = append(ds.Images, float32(v)*scale)
		}
		ds.Labels = append(ds.Labels, uint8(label))
		ds.N++
	}
	if ds.N == 0 {
		return nil, errors.New("0: no samples")
	}
	return ds, nil
}
