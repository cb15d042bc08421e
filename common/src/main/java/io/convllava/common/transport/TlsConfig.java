package io.convllava.common.transport;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS for the cluster's gRPC ports and channels, from PEM files: this process's certificate chain and PKCS#8
 * private key, and the certificate authority that peers' certificates must chain to. Members present their
 * certificate both as servers and as clients (mutual TLS); a server that {@link #requiresClientCertificates()} (every
 * internal port) refuses a caller without a certificate of that authority; a public port asks for none. A public client may have the authority
 * alone ({@link #clientTrusting}). The SSL contexts are built once, when this is made, so a bad file fails at start
 * naming it.
 */
public final class TlsConfig {
    private final Path certChain;
    private final Path privateKey;
    private final Path trustCerts;
    private final boolean requireClientCertificates;
    private final SslContext server;
    private final SslContext client;

    private TlsConfig(Path certChain, Path privateKey, Path trustCerts, boolean requireClientCertificates) {
        this.certChain = certChain;
        this.privateKey = privateKey;
        this.trustCerts = requireReadable(trustCerts, "--tls-ca");
        this.requireClientCertificates = requireClientCertificates;
        try {
            SslContextBuilder clientBuilder = GrpcSslContexts.forClient().trustManager(trustCerts.toFile());
            if (certChain != null) {
                requireReadable(certChain, "--tls-cert");
                requireReadable(privateKey, "--tls-key");
                clientBuilder.keyManager(certChain.toFile(), privateKey.toFile());
                this.server = GrpcSslContexts.forServer(certChain.toFile(), privateKey.toFile())
                        .trustManager(trustCerts.toFile())
                        // a public port asks for no certificate: its callers are told apart by tokens
                        .clientAuth(requireClientCertificates ? ClientAuth.REQUIRE : ClientAuth.NONE)
                        .build();
            } else {
                this.server = null;
            }
            this.client = clientBuilder.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot use the TLS files (certificate " + certChain + ", key "
                    + privateKey + ", authority " + trustCerts + "): " + e.getMessage()
                    + "; the key must be PKCS#8 PEM (BEGIN PRIVATE KEY), ./convllava certs makes a matching set", e);
        }
    }

    /** A cluster member: its certificate and key, the cluster's authority; its servers require client certificates. */
    public static TlsConfig member(Path certChain, Path privateKey, Path trustCerts) {
        Objects.requireNonNull(certChain, "certChain");
        Objects.requireNonNull(privateKey, "privateKey");
        return new TlsConfig(certChain, privateKey, trustCerts, true);
    }

    /** A client that verifies servers against {@code trustCerts} and presents no certificate of its own. */
    public static TlsConfig clientTrusting(Path trustCerts) {
        return new TlsConfig(null, null, trustCerts, false);
    }

    /** The same files for a public port: it asks callers for no certificate (tokens guard it). */
    public TlsConfig forPublicServer() {
        return requireClientCertificates ? new TlsConfig(certChain, privateKey, trustCerts, false) : this;
    }

    /** This process's certificate chain (PEM); null for a client that only trusts the authority. */
    public Path certificateChain() {
        return certChain;
    }

    /** This process's private key (PKCS#8 PEM); null for a client that only trusts the authority. */
    public Path privateKey() {
        return privateKey;
    }

    public boolean requiresClientCertificates() {
        return requireClientCertificates;
    }

    SslContext serverContext() {
        if (server == null) {
            throw new IllegalStateException("TLS without a certificate and key (--tls-cert, --tls-key) cannot serve");
        }
        return server;
    }

    SslContext clientContext() {
        return client;
    }

    private static Path requireReadable(Path file, String option) {
        if (file == null || !Files.isReadable(file)) {
            throw new IllegalArgumentException(option + " " + file + " is missing or unreadable");
        }
        return file;
    }
}
