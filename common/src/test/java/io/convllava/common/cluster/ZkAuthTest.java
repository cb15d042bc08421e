package io.convllava.common.cluster;

import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;

import static io.convllava.common.cluster.TestZooKeeper.WAIT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Digest authentication and the ACLs of a protected cluster, on a real (plain, unconfigured) ZooKeeper server. */
class ZkAuthTest {
    private static final ZkAuth MEMBER = ZkAuth.of("cluster:s3cret", "test");
    private static final ZkAuth WRONG = ZkAuth.of("cluster:guess", "test");
    private static final List<ACL> MEMBER_ONLY = List.of(new ACL(ZooDefs.Perms.ALL, MEMBER.id()));

    @RegisterExtension
    static final TestZooKeeper zooKeeper = new TestZooKeeper();

    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private ZkLayout layout;

    @BeforeEach
    void layout(TestInfo test) {
        layout = new ZkLayout(test.getTestMethod().orElseThrow().getName());
    }

    @AfterEach
    void closeAll() throws Exception {
        while (!resources.isEmpty()) {
            resources.pop().close();
        }
    }

    @Test
    void membersWithTheCredentialRegisterAndPlanAndEveryZnodeIsTheirsAlone() throws Exception {
        ProtectedCluster cluster = protectedCluster();
        CuratorFramework member = cluster.client;

        assertEquals(Map.of("llm-1", new LayerRange(0, 4)), cluster.planned.plan().assignments());
        for (String path : List.of(layout.root(), layout.members(), layout.member("llm-1"), layout.plan(),
                layout.leader())) {
            assertEquals(MEMBER_ONLY, member.getACL().forPath(path), path);
        }
        for (String leaderChild : member.getChildren().forPath(layout.leader())) {
            assertEquals(MEMBER_ONLY, member.getACL().forPath(layout.leader() + "/" + leaderChild));
        }
        assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, MEMBER.id()),
                        new ACL(ZooDefs.Perms.CREATE | ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)),
                member.getACL().forPath(ZkLayout.ROOT), "other clusters may create theirs next to it");
        Zk.checkAccess(member, zooKeeper.connectString(), layout, MEMBER); // passes
    }

    @Test
    void withoutTheCredentialNothingCanBeReadCreatedChangedOrDeleted() throws Exception {
        protectedCluster();
        CuratorFramework anonymous = open(zooKeeper.newClient());
        assertLockedOut(anonymous);
        ZkAccessException e = assertThrows(ZkAccessException.class,
                () -> Zk.checkAccess(anonymous, zooKeeper.connectString(), layout, null));
        assertEquals("ZooKeeper at " + zooKeeper.connectString() + " refuses to show cluster '" + layout.cluster()
                + "' (" + layout.members() + ") without a credential: the cluster is protected, give its credential"
                + " with --zk-auth-file", e.getMessage());
    }

    @Test
    void aWrongPasswordIsLockedOutLikeNone() throws Exception {
        protectedCluster();
        CuratorFramework guesser = open(Zk.newClient(zooKeeper.connectString(), Zk.CONNECTION_TIMEOUT, WRONG));
        assertLockedOut(guesser);
        ZkAccessException e = assertThrows(ZkAccessException.class,
                () -> Zk.checkAccess(guesser, zooKeeper.connectString(), layout, WRONG));
        assertEquals("ZooKeeper at " + zooKeeper.connectString() + " refuses digest:cluster to read cluster '"
                + layout.cluster() + "' (" + layout.members() + "): its znodes were created with another credential",
                e.getMessage());
    }

    @Test
    void anOpenClusterStillWorksNextToAProtectedOne() throws Exception {
        protectedCluster();
        ZkLayout open = new ZkLayout(layout.cluster() + "-open");
        CuratorFramework anonymous = open(zooKeeper.newClient());
        NodeRegistration registration = open(new NodeRegistration(anonymous, open, Members.auto("llm-1", 4)));
        registration.start();
        assertTrue(registration.waitForInitialCreate(WAIT), "created below the protected " + ZkLayout.ROOT);
        assertEquals(ZooDefs.Ids.OPEN_ACL_UNSAFE, anonymous.getACL().forPath(open.member("llm-1")));
        Zk.checkAccess(anonymous, zooKeeper.connectString(), open, null);
        assertTrue(anonymous.getChildren().forPath(ZkLayout.ROOT).contains(layout.cluster()),
                "anyone can list the cluster names");
        assertNoAuth(() -> anonymous.getChildren().forPath(layout.root()), "look into a protected cluster");
        assertNoAuth(() -> anonymous.delete().forPath(layout.root()), "delete a protected cluster");
    }

    @Test
    void aCredentialRefusesAClusterLeftOpenByARunWithoutOne() throws Exception {
        CuratorFramework anonymous = open(zooKeeper.newClient());
        anonymous.create().creatingParentContainersIfNeeded()
                .forPath(layout.plan(), "{}".getBytes(StandardCharsets.UTF_8));
        CuratorFramework member = open(Zk.newClient(zooKeeper.connectString(), Zk.CONNECTION_TIMEOUT, MEMBER));
        ZkAccessException e = assertThrows(ZkAccessException.class,
                () -> Zk.checkAccess(member, zooKeeper.connectString(), layout, MEMBER));
        assertEquals("znode " + layout.root() + " in ZooKeeper at " + zooKeeper.connectString() + " lets anyone"
                + " change it (ACL world:anyone cdrwa), so a credential cannot protect cluster '" + layout.cluster()
                + "': it was created without one. Delete the cluster's znodes while no node runs (zkCli.sh deleteall "
                + layout.root() + ") or use another --cluster", e.getMessage());
    }

    @Test
    void theFileHoldsOneLineUserColonPassword(@TempDir Path dir) throws Exception {
        Path good = Files.writeString(dir.resolve("good"), "cluster:s3cret\n");
        ZkAuth auth = ZkAuth.load(good);
        assertEquals("cluster", auth.user());
        assertEquals(MEMBER.id(), auth.id());
        assertArrayEquals("cluster:s3cret".getBytes(StandardCharsets.UTF_8), auth.authBytes());
        assertEquals("digest:cluster", auth.toString(), "never the password");
        assertEquals(MEMBER.id(), ZkAuth.load(Files.writeString(dir.resolve("crlf"), "cluster:s3cret\r\n")).id());
        assertEquals("pass:with:colons", passwordOf(ZkAuth.load(Files.writeString(dir.resolve("colons"),
                "u:pass:with:colons"))));

        Path missing = dir.resolve("missing");
        assertBadFile("ZooKeeper credential file " + missing + " does not exist", missing);
        assertBadFile("ZooKeeper credential file %s is empty: it must hold one line user:password",
                Files.writeString(dir.resolve("empty"), "\n"));
        assertBadFile("ZooKeeper credential file %s must hold one line user:password (no ':' found)",
                Files.writeString(dir.resolve("nocolon"), "s3cret\n"));
        assertBadFile("ZooKeeper credential file %s must hold one line user:password (the password is empty)",
                Files.writeString(dir.resolve("nopassword"), "cluster:\n"));
        assertBadFile("ZooKeeper credential file %s must hold one line user:password (the user is empty or starts"
                + " or ends with a space)", Files.writeString(dir.resolve("nouser"), ":s3cret\n"));
        assertBadFile("ZooKeeper credential file %s must hold one line user:password (found several lines)",
                Files.writeString(dir.resolve("lines"), "cluster:s3cret\nother:line\n"));
        assertBadFile("ZooKeeper credential file %s is not UTF-8 text",
                Files.write(dir.resolve("binary"), new byte[] {'u', ':', (byte) 0xff}));
        Path folder = Files.createDirectory(dir.resolve("folder"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ZkAuth.load(folder));
        assertTrue(e.getMessage().startsWith("cannot read ZooKeeper credential file " + folder + ": "),
                e.getMessage());
    }

    /** A node and a coordinator of cluster {@code layout}, both with {@link #MEMBER}, the node planned. */
    private ProtectedCluster protectedCluster() throws Exception {
        CuratorFramework client = open(Zk.newClient(zooKeeper.connectString(), Zk.CONNECTION_TIMEOUT, MEMBER));
        NodeRegistration registration = open(new NodeRegistration(client, layout, Members.auto("llm-1", 4)));
        registration.start();
        assertTrue(registration.waitForInitialCreate(WAIT), "the member znode is created");
        CuratorFramework coordinator = open(Zk.newClient(zooKeeper.connectString(), Zk.CONNECTION_TIMEOUT, MEMBER));
        ClusterView view = open(new ClusterView(coordinator, layout));
        SnapshotWaiter observed = new SnapshotWaiter();
        view.addListener(observed);
        view.start();
        PlanLeader leader = open(new PlanLeader(coordinator, layout, view, "coord-a", Duration.ofMillis(100)));
        leader.start();
        ClusterSnapshot planned = observed.await(s -> s.plan().assignments().size() == 1, WAIT, "llm-1 planned");
        return new ProtectedCluster(client, planned);
    }

    private record ProtectedCluster(CuratorFramework client, ClusterSnapshot planned) {
    }

    /** {@code outsider} can neither read, nor create, change or delete anything of the protected cluster. */
    private void assertLockedOut(CuratorFramework outsider) {
        byte[] fake = Members.auto("impostor", 4).toJson();
        assertNoAuth(() -> outsider.create().withMode(CreateMode.EPHEMERAL).forPath(layout.member("impostor"), fake),
                "register a member");
        assertNoAuth(() -> outsider.create().forPath(layout.root() + "/other"), "create in the cluster root");
        assertNoAuth(() -> outsider.setData().forPath(layout.plan(), "{}".getBytes(StandardCharsets.UTF_8)),
                "rewrite the plan");
        assertNoAuth(() -> outsider.delete().forPath(layout.plan()), "delete the plan");
        assertNoAuth(() -> outsider.setData().forPath(layout.member("llm-1"), fake), "change a member");
        assertNoAuth(() -> outsider.delete().forPath(layout.member("llm-1")), "delete a member");
        assertNoAuth(() -> outsider.setACL().withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath(layout.plan()),
                "open the plan");
        assertNoAuth(() -> outsider.getData().forPath(layout.plan()), "read the plan");
        assertNoAuth(() -> outsider.getData().forPath(layout.member("llm-1")), "read a member's address");
        assertNoAuth(() -> outsider.getChildren().forPath(layout.members()), "list the members");
        assertNoAuth(() -> outsider.create().forPath(layout.leader() + "/latch-", new byte[0]), "join the election");
    }

    private static void assertNoAuth(Executable call, String what) {
        assertThrows(KeeperException.NoAuthException.class, call, "without the credential one cannot " + what);
    }

    private static void assertBadFile(String expected, Path file) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ZkAuth.load(file));
        assertEquals(expected.replace("%s", file.toString()), e.getMessage());
    }

    private static String passwordOf(ZkAuth auth) {
        String both = new String(auth.authBytes(), StandardCharsets.UTF_8);
        return both.substring(both.indexOf(':') + 1);
    }

    private <T extends AutoCloseable> T open(T resource) {
        resources.push(resource);
        return resource;
    }
}
