package io.pgconmgr.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgconmgr.operator.testsupport.SelfSignedCertificate;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The key formats openssl and cert-manager write all load; a wrong file says what it found. */
class PemKeyManagerTest {
  @TempDir
  Path tmp;

  @Test
  void readsPkcs1Pkcs8AndSec1Keys() throws Exception {
    KeyPair rsa = generate("RSA", 2048);

    assertThat(PemKeyManager.readKey(write("rsa-pkcs1.pem", rsa))).isEqualTo(rsa.getPrivate());
    assertThat(PemKeyManager.readKey(write("rsa-pkcs8.pem", new JcaPKCS8Generator(rsa.getPrivate(), null))))
        .isEqualTo(rsa.getPrivate());
    // SEC1 as openssl writes it ("BEGIN EC PRIVATE KEY"), the format of cert-manager's ECDSA keys.
    Path sec1 = tmp.resolve("ec-sec1.pem");
    Process openssl = new ProcessBuilder("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
        "-out", sec1.toString()).redirectErrorStream(true).start();
    assertThat(openssl.waitFor()).as(new String(openssl.getInputStream().readAllBytes())).isZero();
    assertThat(Files.readString(sec1)).startsWith("-----BEGIN EC PRIVATE KEY-----");
    assertThat(PemKeyManager.readKey(sec1).getAlgorithm()).isIn("EC", "ECDSA");
  }

  @Test
  void certificateInPlaceOfTheKeyIsRefusedWithWhatWasFound() throws Exception {
    SelfSignedCertificate cert = SelfSignedCertificate.create(tmp);
    assertThatThrownBy(() -> PemKeyManager.serverContext(cert.certFile(), cert.certFile()))
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessageContaining("expected an unencrypted PEM private key, found X509CertificateHolder");
  }

  private Path write(String name, Object pem) throws Exception {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(pem);
    }
    Path file = tmp.resolve(name);
    Files.writeString(file, out.toString());
    return file;
  }

  private static KeyPair generate(String algorithm, int size) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
    g.initialize(size);
    return g.generateKeyPair();
  }
}
