#!/usr/bin/env python3
"""Asks a ConvLLaVA cluster a question about an image, streams the answer to stdout as it is decoded, then prints the
boxes it locates and why it stopped.

    python3 generate.py --image photo.png --prompt "What is in the picture?" [--target 127.0.0.1:50051]
        [--token T | CONVLLAVA_TOKEN=T] [--tls-ca ca.pem] [--timeout-s 120] [--max-new-tokens N]
"""
import argparse
import os
import sys

import grpc

from convllava_client import ConvLlavaClient, finish_reason_name, open_channel, question


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="127.0.0.1:50051", help="the coordinator, host:port (%(default)s)")
    parser.add_argument("--image", help="image file (PNG, JPEG, ...) the question is about; none: a text-only question")
    parser.add_argument("--prompt", required=True, help="the question")
    parser.add_argument("--token", default=os.environ.get("CONVLLAVA_TOKEN"),
                        help="bearer token sent with the call (default: $CONVLLAVA_TOKEN)")
    parser.add_argument("--tls-ca", help="PEM file of the authority the coordinator's certificate is checked against;"
                                         " none: plaintext")
    parser.add_argument("--timeout-s", type=float, default=120.0, help="deadline of the whole answer (%(default)s)")
    parser.add_argument("--max-new-tokens", type=int, default=0, help="most tokens to generate (0: server default)")
    args = parser.parse_args()
    if args.timeout_s <= 0:
        parser.error("--timeout-s must be > 0")
    if args.max_new_tokens < 0:
        parser.error("--max-new-tokens must be >= 0")
    for flag, path in (("--image", args.image), ("--tls-ca", args.tls_ca)):
        if path is not None and not os.path.isfile(path):
            parser.error("cannot read %s: no such file %s" % (flag, path))
    return args


def main():
    args = arguments()
    image = None
    if args.image:
        with open(args.image, "rb") as f:
            image = f.read()
    streamed = False

    def on_delta(delta):
        nonlocal streamed
        sys.stdout.write(delta.text)
        sys.stdout.flush()
        streamed = streamed or delta.text != ""

    with open_channel(args.target, args.tls_ca) as channel:
        try:
            final = ConvLlavaClient(channel, args.token).generate(
                question(args.prompt, image, args.max_new_tokens), args.timeout_s, on_delta)
        except grpc.RpcError as e:
            if streamed:
                print()
            print("error: %s from %s: %s" % (e.code().name, args.target, e.details()), file=sys.stderr)
            return 1
    print()
    for b in final.boxes:
        print("box: image %d normalized [%s] pixels [%.1f, %.1f, %.1f, %.1f]" % (
            b.image_index, ", ".join("%.3f" % v for v in b.normalized), b.x1, b.y1, b.x2, b.y2))
    u = final.usage
    print("finish: %s, %d prompt tokens (%d image), %d generated, %.0f ms" % (
        finish_reason_name(final), u.prompt_tokens, u.image_tokens, u.completion_tokens, final.timings.total_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
