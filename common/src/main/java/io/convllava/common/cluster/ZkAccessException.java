package io.convllava.common.cluster;

/** ZooKeeper is reachable but this client may not use the cluster there as it is; the message says why. */
public final class ZkAccessException extends RuntimeException {
    public ZkAccessException(String message) {
        super(message);
    }
}
