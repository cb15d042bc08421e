package io.convllava.tests.deploy;

import io.convllava.cli.LauncherCommandLine;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What every deployment of a server role must run with, whichever file starts it. */
final class ServerRoleChecks {
    static final Set<String> SERVER_ROLES = Set.of("coordinator", "vision-node", "llm-node");

    private ServerRoleChecks() {
    }

    /**
     * The role's gRPC port is the code's default (the port tables, probes and image agree on it), its metrics are on
     * {@link DeployFiles#METRICS_PORTS}, it loads a model, joins ZooKeeper with the cluster's credential and speaks
     * TLS; llm nodes take their layers from the plan (auto); coordinators require tokens.
     */
    static void check(String where, LauncherCommandLine command) {
        String role = command.name();
        assertTrue(SERVER_ROLES.contains(role), where + ": " + role + " is no server role");
        assertEquals(DeployFiles.defaultGrpcPort(role), command.intValue("--port"), where + ": --port of " + role);
        assertEquals(String.valueOf(DeployFiles.defaultGrpcPort(role)), command.declaredDefault("--port"),
                where + ": the code's default port of " + role);
        assertEquals(DeployFiles.METRICS_PORTS.get(role), command.intValue("--metrics-port"),
                where + ": --metrics-port of " + role);
        assertNotEquals(command.declaredDefault("--host"), command.value("--host"),
                where + ": --host must be an address the other nodes reach");
        for (String flag : List.of("--model", "--zk", "--zk-auth-file", "--tls-cert", "--tls-key", "--tls-ca")) {
            assertNotNull(command.value(flag), where + ": " + role + " runs without " + flag);
        }
        if (role.equals("llm-node")) {
            assertEquals("auto", command.value("--layers"), where + ": llm nodes take their layers from the plan");
        }
        if (role.equals("coordinator")) {
            assertNotNull(command.value("--token-file"), where + ": the public API needs tokens (--token-file)");
        }
    }
}
