package io.convllava.cli.certs;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;

/**
 * A development certificate authority and a certificate for the cluster's members, as PEM files: {@code ca.pem}
 * (the authority, for --tls-ca), {@code ca.key} (to sign more later; keep it apart), {@code node.pem} and
 * {@code node.key} (every member's certificate and PKCS#8 key, valid for the given host names and addresses, for
 * both server and client use: mutual TLS). ECDSA P-256, SHA-256. Keys are written readable by their owner only.
 */
public final class DevelopmentCertificates {
    public static final String CA_CERT = "ca.pem";
    public static final String CA_KEY = "ca.key";
    public static final String NODE_CERT = "node.pem";
    public static final String NODE_KEY = "node.key";

    private DevelopmentCertificates() {
    }

    /** Writes the four files into {@code dir} (created if missing) for members reached at {@code hosts}. */
    public static void write(Path dir, List<String> hosts, Duration validity, String authorityName)
            throws IOException, GeneralSecurityException {
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("name at least one host the certificate is for (--hosts)");
        }
        Files.createDirectories(dir);
        KeyPair ca = newKeyPair();
        KeyPair node = newKeyPair();
        Instant now = Instant.now();
        X500Name caName = new X500Name("CN=" + authorityName);
        try {
            JcaX509v3CertificateBuilder caBuilder = new JcaX509v3CertificateBuilder(caName, serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), caName,
                    ca.getPublic());
            caBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            caBuilder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            X509CertificateHolder caCert = caBuilder.build(signer(ca));

            JcaX509v3CertificateBuilder nodeBuilder = new JcaX509v3CertificateBuilder(caName, serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)),
                    new X500Name("CN=convllava cluster member"), node.getPublic());
            nodeBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            nodeBuilder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            nodeBuilder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                    new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            nodeBuilder.addExtension(Extension.subjectAlternativeName, false, alternativeNames(hosts));
            X509CertificateHolder nodeCert = nodeBuilder.build(signer(ca));

            writePem(dir.resolve(CA_CERT), "CERTIFICATE", caCert.getEncoded(), false);
            writePem(dir.resolve(CA_KEY), "PRIVATE KEY", ca.getPrivate().getEncoded(), true);
            writePem(dir.resolve(NODE_CERT), "CERTIFICATE", nodeCert.getEncoded(), false);
            writePem(dir.resolve(NODE_KEY), "PRIVATE KEY", node.getPrivate().getEncoded(), true);
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign with ECDSA P-256: " + e.getMessage(), e);
        }
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(120, new SecureRandom());
    }

    private static org.bouncycastle.operator.ContentSigner signer(KeyPair issuer) throws OperatorCreationException {
        return new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate());
    }

    /** DNS names, and IP addresses for hosts written as addresses. */
    private static GeneralNames alternativeNames(List<String> hosts) {
        List<GeneralName> names = new ArrayList<>();
        for (String host : hosts) {
            String h = host.strip();
            boolean address = h.matches("[0-9.]+") || h.contains(":");
            if (address) {
                try {
                    InetAddress.getByName(h); // a literal address: no lookup happens
                } catch (IOException e) {
                    throw new IllegalArgumentException("--hosts: '" + h + "' is not an IP address");
                }
            }
            names.add(new GeneralName(address ? GeneralName.iPAddress : GeneralName.dNSName, h));
        }
        return new GeneralNames(names.toArray(new GeneralName[0]));
    }

    private static void writePem(Path file, String type, byte[] der, boolean secret) throws IOException {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        String pem = "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
        Files.deleteIfExists(file);
        if (secret) {
            try {
                Files.createFile(file,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(file); // not a POSIX file system
            }
        }
        Files.writeString(file, pem, StandardCharsets.US_ASCII);
    }
}
