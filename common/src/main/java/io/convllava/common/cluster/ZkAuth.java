package io.convllava.common.cluster;

import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The ZooKeeper credential of a cluster's members: a user and password for ZooKeeper's {@code digest} scheme, read
 * from a file holding one line {@code user:password} (so the secret stays out of command lines and {@code ps}).
 *
 * <p>Clients with it authenticate as {@code digest:user}, and every znode they create gets {@link #acl()}: all
 * permissions to that identity and none to anyone else, so without the credential one can neither register a member,
 * nor read or change the plan, nor read the members' addresses. The one exception is the shared {@value
 * ZkLayout#ROOT} znode, which also lets anyone READ it and CREATE below it, so that clusters with other credentials
 * (or none) can share the ensemble: ZooKeeper wants READ even for {@code exists}, which creating a path below it
 * starts with. So anyone can list the cluster names, but not what is in them.
 */
public final class ZkAuth {
    public static final String SCHEME = "digest";

    private final String user;
    private final String password;
    private final Id id;

    private ZkAuth(String user, String password) {
        this.user = user;
        this.password = password;
        try {
            this.id = new Id(SCHEME, DigestAuthenticationProvider.generateDigest(user + ":" + password));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-1, which ZooKeeper's digest scheme needs", e);
        }
    }

    /**
     * A credential from {@code user:password}; {@code source} names where it came from, for the error message.
     *
     * @throws IllegalArgumentException when the user is empty or holds ':', or the password is empty
     */
    public static ZkAuth of(String userColonPassword, String source) {
        int colon = userColonPassword.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException(source + " must hold one line user:password (no ':' found)");
        }
        String user = userColonPassword.substring(0, colon);
        String password = userColonPassword.substring(colon + 1);
        if (user.isBlank() || !user.strip().equals(user)) {
            throw new IllegalArgumentException(source + " must hold one line user:password (the user is empty or"
                    + " starts or ends with a space)");
        }
        if (password.isEmpty()) {
            throw new IllegalArgumentException(source + " must hold one line user:password (the password is empty)");
        }
        return new ZkAuth(user, password);
    }

    /**
     * Reads the credential from {@code file}: one line {@code user:password}, UTF-8; a final line break is ignored.
     *
     * @throws IllegalArgumentException naming the file when it is missing, unreadable or malformed
     */
    public static ZkAuth load(Path file) {
        String where = "ZooKeeper credential file " + file;
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(where + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + where + ": " + e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(where + " is not UTF-8 text");
        }
        if (text.endsWith("\n")) {
            text = text.substring(0, text.length() - 1);
        }
        if (text.endsWith("\r")) {
            text = text.substring(0, text.length() - 1);
        }
        if (text.isEmpty()) {
            throw new IllegalArgumentException(where + " is empty: it must hold one line user:password");
        }
        if (text.contains("\n") || text.contains("\r")) {
            throw new IllegalArgumentException(where + " must hold one line user:password (found several lines)");
        }
        return of(text, where);
    }

    public String user() {
        return user;
    }

    /** {@code user:password} as ZooKeeper's {@code addAuthInfo} takes it. */
    public byte[] authBytes() {
        return (user + ":" + password).getBytes(StandardCharsets.UTF_8);
    }

    /** {@code digest:user:base64(sha1(user:password))}, the identity this credential authenticates as. */
    public Id id() {
        return id;
    }

    /** Everything for this identity, nothing for anyone else. */
    public List<ACL> acl() {
        return aclList(new ACL(ZooDefs.Perms.ALL, id));
    }

    /** Not List.of: ZooKeeper validates an ACL with {@code contains(null)}, which List.of throws on. */
    private static List<ACL> aclList(ACL... entries) {
        return Collections.unmodifiableList(Arrays.asList(entries));
    }

    /** {@link #acl()} for every znode, with anyone allowed to read {@value ZkLayout#ROOT} and create below it. */
    public ACLProvider aclProvider() {
        List<ACL> own = acl();
        List<ACL> root = aclList(new ACL(ZooDefs.Perms.ALL, id), new ACL(ZooDefs.Perms.CREATE | ZooDefs.Perms.READ,
                ZooDefs.Ids.ANYONE_ID_UNSAFE));
        return new ACLProvider() {
            @Override
            public List<ACL> getDefaultAcl() {
                return own;
            }

            @Override
            public List<ACL> getAclForPath(String path) {
                return ZkLayout.ROOT.equals(path) ? root : own;
            }
        };
    }

    /** Never shows the password. */
    @Override
    public String toString() {
        return "digest:" + user;
    }
}
