package io.convllava.common.cluster;

/** ZooKeeper could not be reached; the message says where and how to start one. */
public final class ZkUnavailableException extends RuntimeException {
    public ZkUnavailableException(String message) {
        super(message);
    }
}
