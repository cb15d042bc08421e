#!/usr/bin/env bash
# Regenerates convllavapb/ from the repository's protos (the generated code is checked in, so that building needs no
# protoc). Needs protoc, protoc-gen-go and protoc-gen-go-grpc on the PATH
# (Debian: apt-get install protobuf-compiler protoc-gen-go protoc-gen-go-grpc).
# Usage: compile_protos.sh [OUT_DIR]   (default: convllavapb next to this script)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
protos="$here/../../proto/src/main/proto"
out="${1:-$here/convllavapb}"
pkg=convllava.io/client/convllavapb
files=(convllava/v1/common.proto convllava/v1/tensor.proto convllava/v1/convllava.proto)
# the protos carry no go_package option: map each file to the package here instead
mapping=()
for f in "${files[@]}"; do
  mapping+=("--go_opt=M$f=$pkg" "--go-grpc_opt=M$f=$pkg")
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
protoc -I "$protos" --go_out="$tmp" --go_opt=paths=source_relative --go-grpc_out="$tmp" \
  --go-grpc_opt=paths=source_relative "${mapping[@]}" "${files[@]/#/$protos/}"
mkdir -p "$out"
rm -f "$out"/*.pb.go
cp "$tmp"/convllava/v1/*.pb.go "$out"/
