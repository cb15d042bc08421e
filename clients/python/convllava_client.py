"""A thin Python client of a ConvLLaVA cluster's public API (convllava.v1.ConvLlava, served by every coordinator).

The messages and stubs are compiled from the repository's protos by compile_protos.py into generated/.
"""
import os
import sys

import grpc

GENERATED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "generated")
if GENERATED not in sys.path:
    sys.path.insert(0, GENERATED)
try:
    from convllava.v1 import convllava_pb2, convllava_pb2_grpc  # noqa: E402
except ImportError as e:
    raise ImportError("the convllava.v1 stubs are missing from %s (%s): run compile_protos.py first"
                      % (GENERATED, e)) from e


def open_channel(target, ca_file=None):
    """A channel to target (host:port): TLS trusting the PEM certificates in ca_file, or plaintext without one
    (a development cluster such as `convllava local`)."""
    if not ca_file:
        return grpc.insecure_channel(target)
    with open(ca_file, "rb") as f:
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=f.read()))


def question(prompt, image=None, max_new_tokens=0):
    """A request about one image (its file's bytes, or None for none): a single USER message, greedy."""
    message = convllava_pb2.Message(role=convllava_pb2.Message.USER, text=prompt)
    if image is not None:
        message.images.add(data=image)
    return convllava_pb2.GenerateRequest(messages=[message], max_new_tokens=max_new_tokens)


class ConvLlavaClient:
    """Calls one coordinator over a channel the caller owns (and closes)."""

    def __init__(self, channel, token=None):
        """token, when given, is sent as `authorization: Bearer <token>` with every call."""
        self._stub = convllava_pb2_grpc.ConvLlavaStub(channel)
        self._metadata = (("authorization", "Bearer " + token),) if token else ()

    def generate(self, request, timeout_s, on_delta):
        """Sends request, calls on_delta(delta) for every Delta as it arrives and returns the Final event.

        Raises grpc.RpcError (.code(), .details()) when the call fails, its deadline (timeout_s) included."""
        for event in self._stub.Generate(request, timeout=timeout_s, metadata=self._metadata):
            kind = event.WhichOneof("event")
            if kind == "delta":
                on_delta(event.delta)
            elif kind == "final":
                return event.final
        raise RuntimeError("the coordinator ended the stream without a Final event")

    def list_models(self, timeout_s):
        """The models the cluster serves, the default first."""
        return list(self._stub.ListModels(convllava_pb2.ListModelsRequest(), timeout=timeout_s,
                                          metadata=self._metadata).models)


def finish_reason_name(final):
    """Final.finish_reason as its enum name (STOP, LENGTH, STOP_STRING)."""
    return convllava_pb2.Final.FinishReason.Name(final.finish_reason)
