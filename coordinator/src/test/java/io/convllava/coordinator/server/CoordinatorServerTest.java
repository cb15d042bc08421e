package io.convllava.coordinator.server;

import com.google.protobuf.ByteString;
import io.convllava.common.cluster.Zk;
import io.convllava.common.cluster.ZkLayout;
import io.convllava.common.model.ModelFiles;
import io.convllava.common.testing.Fixtures;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A real coordinator on 127.0.0.1 (no nodes needed: requests are checked before they are routed). */
class CoordinatorServerTest {
    private static final String HOST = "127.0.0.1";
    private static TestingServer zookeeper;
    private static CuratorFramework zk;
    private static ServedModel model;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zookeeper = new TestingServer();
        zk = Zk.newClient(zookeeper.getConnectString());
        model = ServedModel.load("tiny-convllava", ModelFiles.resolve(Fixtures.tinyModel().toString(), null, null));
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        zk.close();
        zookeeper.close();
    }

    @Test
    void anOversizeImageIsInvalidArgumentNamingItAndTheLimit() throws Exception {
        try (CoordinatorServer coordinator = CoordinatorServer.start(model, CoordinatorConfig.defaults(null, HOST, 0),
                zk, new ZkLayout("oversize"))) {
            ManagedChannel channel = Channels.forAddress(coordinator.address(), TransportOptions.DEFAULTS);
            try {
                GenerateRequest request = GenerateRequest.newBuilder().addMessages(Message.newBuilder()
                        .setRole(Message.Role.USER).setText("What is in the image?")
                        .addImages(Image.newBuilder().setData(ByteString.copyFrom(new byte[40_000_000])))).build();
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                                .generate(request).hasNext());
                assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
                assertEquals("messages[0].images[0] is 40000000 bytes; images are limited to 33554432 bytes (32 MiB):"
                        + " resize it or save it as JPEG", e.getStatus().getDescription());
            } finally {
                channel.shutdownNow();
            }
        }
    }

    @Test
    void aBusyPortIsSaidToBeInUse() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Exception e = assertThrows(Exception.class, () -> CoordinatorServer.start(model,
                    CoordinatorConfig.defaults(null, HOST, port), zk, new ZkLayout("busy")));
            assertEquals("coordinator: port " + port + " on 127.0.0.1 is already in use (another process listens"
                    + " there): stop it or pick another --port", e.getMessage());
        }
    }
}
