#!/bin/sh
# Regenerates onnx.pb.go from onnx.proto (copied from Debian's python3-onnx
# 1.12.0). protoc is Debian's protobuf-compiler 3.21.12; its version is
# written into the output, so another version would make CI's "go generate
# leaves no diff" check fail: refuse it here with a clear message instead.
# protoc-gen-go is built from the version go.mod pins (a tool directive).
set -eu
want="libprotoc 3.21.12"
if ! command -v protoc >/dev/null 2>&1; then
	echo "onnxpb: protoc not found: apt-get install -y protobuf-compiler ($want)" >&2
	exit 1
fi
have=$(protoc --version)
if [ "$have" != "$want" ]; then
	echo "onnxpb: protoc is $have, the committed onnx.pb.go was made with $want" >&2
	exit 1
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
protoc --plugin=protoc-gen-go="$bin/protoc-gen-go" --go_out=. --go_opt=paths=source_relative \
	--go_opt=Monnx.proto=github.com/dlc-project/dlc/frontend/onnx/onnxpb onnx.proto
