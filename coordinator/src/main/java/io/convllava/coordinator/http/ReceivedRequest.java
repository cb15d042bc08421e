package io.convllava.coordinator.http;

import io.netty.handler.codec.http.FullHttpRequest;

/** A whole request whose route accepted it (path, method and token checked), ready for a handler. */
record ReceivedRequest(FullHttpRequest request, HttpRoutes.Route route) {
}
