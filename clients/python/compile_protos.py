#!/usr/bin/env python3
"""Compiles the repository's protos (proto/src/main/proto) into Python messages and gRPC stubs in generated/.

Uses protoc with grpc_python_plugin when both are on the PATH (Debian: apt-get install protobuf-compiler
protobuf-compiler-grpc), else grpcio-tools' bundled compiler (pip install grpcio-tools; needs 3.15 or newer for the
protos' proto3 `optional` fields, which Debian's python3-grpc-tools 1.14 predates).

Usage: compile_protos.py [OUT_DIR]   (default: generated/ next to this script)
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "proto", "src", "main", "proto"))
# The public API and the files it imports; the internal node services are not needed by clients.
PROTOS = ["convllava/v1/common.proto", "convllava/v1/tensor.proto", "convllava/v1/convllava.proto"]


def compiler(out):
    """The protoc command line writing to out."""
    outputs = ["-I" + PROTO_DIR, "--python_out=" + out, "--grpc_python_out=" + out]
    plugin = shutil.which("grpc_python_plugin")
    protoc = shutil.which("protoc")
    if protoc and plugin:
        return [protoc, "--plugin=protoc-gen-grpc_python=" + plugin] + outputs
    try:
        import grpc_tools  # noqa: F401  (only to know that it is there)
    except ImportError:
        sys.exit("error: no proto compiler: install protoc and grpc_python_plugin (Debian: apt-get install "
                 "protobuf-compiler protobuf-compiler-grpc) or grpcio-tools (pip install grpcio-tools)")
    return [sys.executable, "-m", "grpc_tools.protoc"] + outputs


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "generated"))
    # compile next to the destination, then swap, so that a failed run leaves the previous stubs in place
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".generated-", dir=os.path.dirname(out))
    try:
        command = compiler(tmp) + [os.path.join(PROTO_DIR, p) for p in PROTOS]
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            sys.exit("error: compiling the protos failed (%s):\n%s" % (" ".join(command[:3]), result.stdout))
        shutil.rmtree(out, ignore_errors=True)
        os.rename(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("wrote the convllava.v1 messages and stubs to " + out)


if __name__ == "__main__":
    main()
