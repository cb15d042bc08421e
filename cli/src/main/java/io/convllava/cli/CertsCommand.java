package io.convllava.cli;

import io.convllava.cli.certs.DevelopmentCertificates;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code convllava certs}: a development certificate authority and member certificate for TLS. */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = {"Make a development certificate authority and a certificate for the cluster's members (TLS,"
                + " mutual TLS between members). For production, use your own authority."})
final class CertsCommand implements Callable<Integer> {
    @ParentCommand
    private Main main;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where ca.pem, ca.key, node.pem and"
            + " node.key go.")
    Path out;

    @Option(names = "--hosts", defaultValue = "localhost,127.0.0.1", split = ",", paramLabel = "HOST[,HOST...]",
            description = "Host names and addresses the members are reached at, as given to --host (default:"
                    + " ${DEFAULT-VALUE}).")
    List<String> hosts;

    @Option(names = "--days", defaultValue = "365", paramLabel = "N",
            description = "Validity in days (default: ${DEFAULT-VALUE}).")
    int days;

    @Override
    public Integer call() throws Exception {
        if (days < 1) {
            throw new UsageException("--days must be at least 1, got " + days);
        }
        try {
            DevelopmentCertificates.write(out, hosts, Duration.ofDays(days), "convllava development CA");
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Path cert = out.resolve(DevelopmentCertificates.NODE_CERT);
        Path key = out.resolve(DevelopmentCertificates.NODE_KEY);
        Path ca = out.resolve(DevelopmentCertificates.CA_CERT);
        main.out().println("wrote " + ca + ", " + out.resolve(DevelopmentCertificates.CA_KEY) + ", " + cert + " and "
                + key + " for " + String.join(", ", hosts) + ", valid " + days + " days");
        main.out().println("every node and coordinator: --tls-cert " + cert + " --tls-key " + key + " --tls-ca " + ca);
        main.out().println("clients: convllava generate --target HOST:PORT --tls-ca " + ca);
        return 0;
    }
}
