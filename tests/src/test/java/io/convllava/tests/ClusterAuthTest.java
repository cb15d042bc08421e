package io.convllava.tests;

import io.convllava.common.cluster.NodeInfo;
import io.convllava.common.cluster.Zk;
import io.convllava.common.cluster.ZkAuth;
import io.convllava.common.testing.Fixtures;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.proto.v1.GetClusterStatusRequest;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cluster whose nodes hold a ZooKeeper credential: it plans and serves as an open one does, while a client
 * without it can neither join nor read it; {@code convllava status --zk} needs the credential file, and a bad file
 * is named before anything connects.
 */
class ClusterAuthTest {
    private static final Reference TINY = new Reference("tiny-convllava");

    @Test
    void aProtectedClusterServesAndKeepsOutsidersOut(@TempDir Path dir) throws Exception {
        Path authFile = Files.writeString(dir.resolve("zk-auth"), "cluster:s3cret\n");
        Path wrongFile = Files.writeString(dir.resolve("wrong"), "cluster:guess\n");
        try (TestingServer zookeeper = new TestingServer(true);
             TestCluster cluster = new TestCluster(zookeeper, ZkAuth.load(authFile))) {
            cluster.coordinator(ServedModel.load("tiny-convllava", TestCluster.TINY));
            cluster.llm("auto");
            cluster.llm("auto");
            cluster.awaitPipelines(1); // the auto nodes got their layers from a plan the leader wrote
            TINY.assertGreedyPrefix(1, Streams.collect(cluster.client().generate(
                    Streams.request(TINY.question(1), null, 6, false))).tokens());

            String zk = zookeeper.getConnectString();
            String name = cluster.layout().cluster();
            try (CuratorFramework outsider = Zk.newClient(zk)) {
                byte[] impostor = NodeInfo.llm("impostor", "127.0.0.1", 7000, "tiny-convllava", "cpu", 4, "0-4")
                        .toJson();
                assertThrows(KeeperException.NoAuthException.class, () -> outsider.create()
                        .withMode(CreateMode.EPHEMERAL).forPath(cluster.layout().member("impostor"), impostor));
                assertThrows(KeeperException.NoAuthException.class,
                        () -> outsider.setData().forPath(cluster.layout().plan(), new byte[0]));
            }
            assertEquals(3, cluster.client().getClusterStatus(GetClusterStatusRequest.getDefaultInstance())
                    .getNodesCount(), "no impostor among the coordinator and the two llm nodes");

            CliRun withCredential = CliRun.of("status", "--zk", zk, "--cluster", name, "--zk-auth-file",
                    authFile.toString());
            assertEquals(0, withCredential.exitCode, withCredential.err);
            assertTrue(withCredential.out.contains("layers 0-4: covered")
                    && !withCredential.out.contains("plan epoch: 0"), withCredential.out);

            CliRun without = CliRun.of("status", "--zk", zk, "--cluster", name);
            assertEquals(1, without.exitCode, without.out);
            assertEquals("convllava status: ZooKeeper at " + zk + " refuses to show cluster '" + name + "' (/convllava/"
                    + name + "/members) without a credential: the cluster is protected, give its credential with"
                    + " --zk-auth-file", without.err.strip());

            CliRun wrong = CliRun.of("status", "--zk", zk, "--cluster", name, "--zk-auth-file", wrongFile.toString());
            assertEquals(1, wrong.exitCode, wrong.out);
            assertTrue(wrong.err.contains("refuses digest:cluster to read cluster '" + name + "'"), wrong.err);
            assertFalse(wrong.err.contains("guess"), "the password is never shown: " + wrong.err);
        }
    }

    @Test
    void aBadCredentialFileIsNamedBeforeConnecting(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing");
        CliRun status = CliRun.of("status", "--zk", "127.0.0.1:1", "--zk-auth-file", missing.toString());
        assertEquals(2, status.exitCode, status.err);
        assertTrue(status.err.startsWith("convllava status: --zk-auth-file: ZooKeeper credential file " + missing
                + " does not exist"), status.err);

        Path malformed = Files.writeString(dir.resolve("malformed"), "just-a-password\n");
        CliRun node = CliRun.of("llm-node", "--zk", "127.0.0.1:1", "--model", Fixtures.tinyModel().toString(),
                "--layers", "auto", "--zk-auth-file", malformed.toString());
        assertEquals(2, node.exitCode, node.err);
        assertTrue(node.err.startsWith("convllava llm-node: --zk-auth-file: ZooKeeper credential file " + malformed
                + " must hold one line user:password (no ':' found)"), node.err);
        assertFalse(node.err.contains("just-a-password"), "the file's content is never shown: " + node.err);
    }

    @Test
    void withoutACredentialANodeWarnsThatZooKeeperIsOpen() {
        CliRun node = CliRun.of("vision-node", "--zk", "127.0.0.1:1", "--zk-wait", "1s", "--model",
                Fixtures.tinyModel().toString());
        assertEquals(1, node.exitCode, node.err);
        assertTrue(node.err.startsWith("warning: no --zk-auth-file: anyone who can reach ZooKeeper at 127.0.0.1:1"
                + " can join cluster 'default' or rewrite its plan (see docs/security.md)\n"), node.err);
    }
}
