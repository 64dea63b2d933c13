package io.pgconmgr.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A throwaway certificate authority made with the openssl command, for mutual-TLS tests: a CA,
 * then certificates it signs as PEM files {@code NAME.crt} and {@code NAME.key} in one directory.
 */
public final class TestPki {
    private final Path dir;

    private TestPki(Path dir) {
        this.dir = dir;
    }

    /** Makes a CA ({@code ca.crt}, {@code ca.key}, valid two days) in {@code dir}. */
    public static TestPki create(Path dir) {
        TestPki pki = new TestPki(dir.toAbsolutePath());
        pki.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", pki.key("ca").toString(), "-out", pki.ca().toString(),
                "-days", "2", "-subj", "/CN=pgconmgr test CA");
        return pki;
    }

    /**
     * Issues {@code NAME.crt} and {@code NAME.key} signed by the CA.
     *
     * @param extension an X.509 v3 extension line, e.g. {@code subjectAltName=DNS:localhost,IP:127.0.0.1}
     *                  for a server or {@code extendedKeyUsage=clientAuth} for a client
     */
    public TestPki issue(String name, String extension) {
        Path ext = dir.resolve(name + ".ext");
        Path csr = dir.resolve(name + ".csr");
        try {
            Files.writeString(ext, extension + "\n");
        } catch (IOException e) {
            throw Cmd.unchecked(e);
        }
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key(name).toString(), "-out", csr.toString(), "-subj", "/CN=" + name);
        openssl("x509", "-req", "-in", csr.toString(), "-CA", ca().toString(), "-CAkey",
                key("ca").toString(), "-CAcreateserial", "-out", cert(name).toString(), "-days", "2",
                "-extfile", ext.toString());
        return this;
    }

    /** The CA certificate, to trust. */
    public Path ca() {
        return cert("ca");
    }

    public Path cert(String name) {
        return dir.resolve(name + ".crt");
    }

    public Path key(String name) {
        return dir.resolve(name + ".key");
    }

    private void openssl(String... args) {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Cmd.run(command); // throws with openssl's own output when it fails
    }
}
