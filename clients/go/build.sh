#!/usr/bin/env bash
# Builds the example (cmd/generate) offline against the Go sources Debian installs in /usr/share/gocode (apt-get install
# golang-go golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev), in GOPATH mode;
# go.mod is for builds that fetch google.golang.org/grpc and google.golang.org/protobuf from the module proxy instead.
# Usage: build.sh [OUT]   (default: target/generate next to this script); GOCACHE is honoured, and CONVLLAVA_GOCODE
# names another tree of Go sources laid out like /usr/share/gocode.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
gocode="${CONVLLAVA_GOCODE:-/usr/share/gocode}"
if [ ! -d "$gocode/src/google.golang.org/grpc" ] || [ ! -d "$gocode/src/google.golang.org/protobuf" ]; then
  echo "error: no gRPC-Go and Go protobuf sources in $gocode/src: apt-get install golang-google-grpc-dev" \
    "golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev" >&2
  exit 1
fi
# gRPC-Go 1.33 marshals through github.com/golang/protobuf; its 1.3 line (a Debian alternative) predates the
# messages protoc-gen-go writes now and crashes on them
if [ -e "$gocode/src/github.com/golang/protobuf/proto/table_marshal.go" ]; then
  echo "error: $gocode/src/github.com/golang/protobuf is the 1.3 line, too old for these stubs:" \
    "apt-get install golang-github-golang-protobuf-1-5-dev" >&2
  exit 1
fi
out="$(realpath -m "${1:-$here/target/generate}")"
# GOPATH mode finds a package by its import path under GOPATH/src: a throw-away GOPATH links it there
gopath="$(mktemp -d)"
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/convllava.io"
ln -sfn "$here" "$gopath/src/convllava.io/client"
cd "$gopath/src/convllava.io/client"
GO111MODULE=off GOPATH="$gopath:$gocode" GOFLAGS= \
  go build -o "$out" convllava.io/client/cmd/generate
echo "built $out"
