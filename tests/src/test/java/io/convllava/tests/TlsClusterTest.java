package io.convllava.tests;

import io.convllava.cli.certs.DevelopmentCertificates;
import io.convllava.common.transport.BearerTokens;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TlsConfig;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.httpapi.HttpApiConfig;
import io.convllava.coordinator.server.ServedModel;
import io.convllava.llm.node.LlmNode;
import io.convllava.proto.v1.ConvLlavaGrpc;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.LlmNodeGrpc;
import io.convllava.proto.v1.ReleaseRequest;
import io.convllava.vision.node.VisionNode;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cluster on TLS, with mutual TLS between its members and bearer tokens on its public API (certificates from
 * {@code convllava certs}'s {@link DevelopmentCertificates}): a client with the authority and a token is answered;
 * without a token, with a wrong one, in plaintext or trusting another authority it is refused; the internal ports
 * (vision and llm nodes) refuse callers without a certificate of the cluster's authority, or with one of another.
 * The HTTP API is HTTPS with the coordinator's certificate and takes the same tokens.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsClusterTest {
    private static final Reference TINY = new Reference("tiny-convllava");
    private static final String TOKEN = "s3cret-token-of-the-test";
    private static final String OTHER_TOKEN = "another-callers-token";

    private TestingServer zookeeper;
    private TestCluster cluster;
    private Path certs;
    private Path foreign;
    private String coordinator;
    private String httpUrl;
    private VisionNode vision;
    private LlmNode llm;
    private final List<ManagedChannel> channels = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        certs = Files.createTempDirectory("tls-cluster");
        foreign = Files.createTempDirectory("tls-foreign");
        DevelopmentCertificates.write(certs, List.of("localhost", "127.0.0.1"), Duration.ofDays(1), "test CA");
        DevelopmentCertificates.write(foreign, List.of("localhost", "127.0.0.1"), Duration.ofDays(1), "other CA");
        Path tokens = certs.resolve("tokens");
        Files.writeString(tokens, "# the tokens of the test\n" + TOKEN + "\n\n" + OTHER_TOKEN + "\n");
        zookeeper = new TestingServer(true);
        cluster = new TestCluster(zookeeper).withTransport(TransportOptions.DEFAULTS.withTls(member(certs)));
        BearerTokens required = BearerTokens.load(tokens);
        httpUrl = cluster.coordinator(ServedModel.load("tiny-convllava", TestCluster.TINY),
                c -> c.withTokens(required).withHttp(HttpApiConfig.onPort(0))).httpUrl();
        coordinator = cluster.coordinatorAddress();
        vision = cluster.vision();
        llm = cluster.llm("0-4");
        cluster.awaitPipelines(1);
    }

    @AfterAll
    void stop() throws Exception {
        channels.forEach(ManagedChannel::shutdownNow);
        cluster.close();
        zookeeper.close();
    }

    @Test
    void aClientWithTheAuthorityAndATokenIsAnswered() {
        Channel secured = ClientInterceptors.intercept(channel(coordinator, TlsConfig.clientTrusting(ca(certs))),
                BearerTokens.sending(TOKEN));
        int[] tokens = Streams.collect(ConvLlavaGrpc.newBlockingStub(secured).withDeadlineAfter(60, TimeUnit.SECONDS)
                .generate(request())).tokens();
        TINY.assertGreedyPrefix(1, tokens);
    }

    @Test
    void anImageIsCachedForTheCallerWhoSentIt() throws Exception {
        Channel tls = channel(coordinator, TlsConfig.clientTrusting(ca(certs)));
        Channel sender = ClientInterceptors.intercept(tls, BearerTokens.sending(TOKEN));
        Channel other = ClientInterceptors.intercept(tls, BearerTokens.sending(OTHER_TOKEN));
        byte[] image = Files.readAllBytes(TINY.image());
        Streams.collect(ConvLlavaGrpc.newBlockingStub(sender).withDeadlineAfter(60, TimeUnit.SECONDS)
                .generate(Streams.request(TINY.question(0), image, 2, false)));
        String sha = io.convllava.coordinator.server.ImageCache.sha256(image);
        GenerateRequest byHash = GenerateRequest.newBuilder().addMessages(io.convllava.proto.v1.Message.newBuilder()
                .setRole(io.convllava.proto.v1.Message.Role.USER).setText(TINY.question(0))
                .addImages(io.convllava.proto.v1.Image.newBuilder().setSha256(sha))).setMaxNewTokens(2).build();
        Streams.collect(ConvLlavaGrpc.newBlockingStub(sender).withDeadlineAfter(60, TimeUnit.SECONDS)
                .generate(byHash));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> Streams.collect(
                ConvLlavaGrpc.newBlockingStub(other).withDeadlineAfter(60, TimeUnit.SECONDS).generate(byHash)));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), "another caller cannot use or probe it");
    }

    @Test
    void thePublicApiRefusesCallersWithoutTheRightToken() {
        Channel tls = channel(coordinator, TlsConfig.clientTrusting(ca(certs)));
        assertRefused(Status.Code.UNAUTHENTICATED, "needs a bearer token", tls);
        assertRefused(Status.Code.UNAUTHENTICATED, "not accepted",
                ClientInterceptors.intercept(tls, BearerTokens.sending("guessed")));
    }

    @Test
    void thePublicApiRefusesPlaintextAndCallersThatTrustAnotherAuthority() {
        assertRefused(Status.Code.UNAVAILABLE, null, ClientInterceptors.intercept(channel(coordinator, null),
                BearerTokens.sending(TOKEN)));
        assertRefused(Status.Code.UNAVAILABLE, null, ClientInterceptors.intercept(
                channel(coordinator, TlsConfig.clientTrusting(ca(foreign))), BearerTokens.sending(TOKEN)));
    }

    @Test
    void thePublicPortAsksForNoCertificateButForAToken() {
        TlsConfig impostor = TlsConfig.member(foreign.resolve(DevelopmentCertificates.NODE_CERT),
                foreign.resolve(DevelopmentCertificates.NODE_KEY), ca(certs));
        assertRefused(Status.Code.UNAUTHENTICATED, "needs a bearer token", channel(coordinator, impostor));
    }

    @Test
    void theHttpApiIsHttpsWithTheCoordinatorsCertificateAndTheSameTokens() throws Exception {
        assertTrue(httpUrl.startsWith("https://127.0.0.1:"), httpUrl);
        OpenAiHttp https = new OpenAiHttp(HttpClient.newBuilder().sslContext(trusting(ca(certs)))
                .connectTimeout(Duration.ofSeconds(10)).build(), httpUrl, TOKEN);
        OpenAiHttp.Response answered = https.post("/v1/chat/completions",
                OpenAiHttp.chat(TINY.question(1), null, 6).toString());
        assertEquals(200, answered.status(), answered.json().toString());
        Channel secured = ClientInterceptors.intercept(channel(coordinator, TlsConfig.clientTrusting(ca(certs))),
                BearerTokens.sending(TOKEN));
        assertEquals(Streams.collect(ConvLlavaGrpc.newBlockingStub(secured).withDeadlineAfter(60, TimeUnit.SECONDS)
                .generate(request())).last().getText(), answered.json().getAsJsonArray("choices").get(0)
                .getAsJsonObject().getAsJsonObject("message").get("content").getAsString());
        assertEquals(401, https.withToken(null).get("/v1/models").status());
        assertEquals(401, https.withToken("guessed").get("/v1/models").status());
        assertEquals(200, https.withToken(OTHER_TOKEN).get("/v1/models").status());
        OpenAiHttp plaintext = new OpenAiHttp(httpUrl.replace("https://", "http://"), TOKEN);
        assertThrows(IOException.class, () -> plaintext.get("/v1/models"), "plain HTTP gets no answer");
        OpenAiHttp foreignTrust = new OpenAiHttp(HttpClient.newBuilder().sslContext(trusting(ca(foreign))).build(),
                httpUrl, TOKEN);
        assertThrows(SSLHandshakeException.class, () -> foreignTrust.get("/v1/models"),
                "a client trusting another authority does not accept the certificate");
    }

    /** TLS that trusts the authority in the PEM file {@code ca}. */
    private static SSLContext trusting(Path ca) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(ca)) {
            store.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    @Test
    void internalPortsRefuseCallersWithoutAClusterCertificate() {
        for (String internal : List.of(vision.address(), llm.address())) {
            TlsConfig impostor = TlsConfig.member(foreign.resolve(DevelopmentCertificates.NODE_CERT),
                    foreign.resolve(DevelopmentCertificates.NODE_KEY), ca(certs)); // trusts the nodes, not trusted
            for (TlsConfig stranger : new TlsConfig[] {null, TlsConfig.clientTrusting(ca(certs)), member(foreign),
                    impostor}) {
                ManagedChannel channel = channel(internal, stranger);
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> call(internal, channel));
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), internal + " with " + stranger);
            }
            call(internal, channel(internal, member(certs))); // a member is let in
        }
    }

    /** A Release to an llm node (nothing to a vision node), then a health check: mutual TLS guards the whole port. */
    private void call(String address, ManagedChannel channel) {
        if (address.equals(llm.address())) {
            LlmNodeGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .release(ReleaseRequest.newBuilder().setSessionId("nobody").build());
        }
        HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
    }

    private void assertRefused(Status.Code code, String message, Channel channel) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> Streams.collect(
                ConvLlavaGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS).generate(request())));
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        if (message != null) {
            assertTrue(e.getStatus().getDescription().contains(message), e.getStatus().getDescription());
        }
    }

    private ManagedChannel channel(String address, TlsConfig tls) {
        ManagedChannel channel = Channels.forAddress(address, TransportOptions.DEFAULTS.withTls(tls));
        channels.add(channel);
        return channel;
    }

    private static GenerateRequest request() {
        return Streams.request(TINY.question(1), null, 6, false);
    }

    private static TlsConfig member(Path dir) {
        return TlsConfig.member(dir.resolve(DevelopmentCertificates.NODE_CERT),
                dir.resolve(DevelopmentCertificates.NODE_KEY), ca(dir));
    }

    private static Path ca(Path dir) {
        return dir.resolve(DevelopmentCertificates.CA_CERT);
    }
}
