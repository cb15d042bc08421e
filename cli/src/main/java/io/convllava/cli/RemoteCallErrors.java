package io.convllava.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.util.Optional;

/** A failed call to a cluster, said so that the user knows where, why and what to try. */
final class RemoteCallErrors {
    private RemoteCallErrors() {
    }

    /**
     * @param peer    what was called, e.g. "the coordinator"
     * @param address where it was called
     */
    static String describe(StatusRuntimeException e, String peer, String address) {
        Status status = e.getStatus();
        String detail = status.getDescription() != null ? status.getDescription() : status.getCode().name();
        return switch (status.getCode()) {
            case UNAVAILABLE -> unreachable(e, peer, address)
                    .orElse(peer + " at " + address + " is unavailable: " + detail);
            case DEADLINE_EXCEEDED -> peer + " at " + address + " did not finish in time (" + detail
                    + "); raise --timeout-s, or ask for fewer tokens";
            case RESOURCE_EXHAUSTED -> peer + " at " + address + " is overloaded: " + detail + "; retry later";
            case INVALID_ARGUMENT -> peer + " at " + address + " refused the request (INVALID_ARGUMENT): " + detail;
            default -> peer + " at " + address + " answered " + status.getCode() + ": " + detail;
        };
    }

    /** Nothing listening, no such host, no route: the connection itself failed. */
    private static Optional<String> unreachable(Throwable e, String peer, String address) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String why;
            if (t instanceof ConnectException) {
                why = String.valueOf(t.getMessage()).contains("refused")
                        ? "connection refused (nothing listens on that port)" : t.getMessage();
            } else if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
                why = "the host name does not resolve";
            } else if (t instanceof NoRouteToHostException) {
                why = "no route to the host";
            } else {
                continue;
            }
            return Optional.of("cannot reach " + peer + " at " + address + ": " + why + ". Is a cluster"
                    + " running there? Start one with 'convllava local', or check the address and port.");
        }
        return Optional.empty();
    }
}
