package io.pgconmgr.operator.webhook;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the webhook's certificate and key from PEM files (PKCS#1, PKCS#8 or SEC1 keys, as openssl or
 * cert-manager write them) and picks up renewed files without a restart.
 */
public final class PemKeyManager extends X509ExtendedKeyManager {
  private static final Logger LOG = LoggerFactory.getLogger(PemKeyManager.class);
  private static final Duration RECHECK = Duration.ofSeconds(30);

  private final Path certFile;
  private final Path keyFile;
  private volatile X509KeyManager current;
  private volatile FileTime loadedCertTime;
  private volatile FileTime loadedKeyTime;
  private volatile Instant nextCheck;

  private PemKeyManager(Path certFile, Path keyFile) throws IOException, GeneralSecurityException {
    this.certFile = certFile;
    this.keyFile = keyFile;
    load();
  }

  /** A TLS server context presenting the PEM certificate chain and key; fails at once if they do not load. */
  public static SSLContext serverContext(Path certFile, Path keyFile) throws IOException, GeneralSecurityException {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(new javax.net.ssl.KeyManager[] {new PemKeyManager(certFile, keyFile)}, null, null);
    return ctx;
  }

  private void load() throws IOException, GeneralSecurityException {
    FileTime certTime = Files.getLastModifiedTime(certFile);
    FileTime keyTime = Files.getLastModifiedTime(keyFile);
    Collection<? extends Certificate> chain;
    try (InputStream in = Files.newInputStream(certFile)) {
      chain = CertificateFactory.getInstance("X.509").generateCertificates(in);
    }
    if (chain.isEmpty()) {
      throw new GeneralSecurityException(certFile + ": no PEM certificate found");
    }
    PrivateKey key = readKey(keyFile);
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    char[] password = new char[0];
    store.setKeyEntry("webhook", key, password, chain.toArray(new Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, password);
    current = (X509KeyManager) kmf.getKeyManagers()[0];
    loadedCertTime = certTime;
    loadedKeyTime = keyTime;
    nextCheck = Clock.systemUTC().instant().plus(RECHECK);
    LOG.info("webhook TLS certificate loaded from {} (subject {}, valid until {})", certFile,
        ((X509Certificate) chain.iterator().next()).getSubjectX500Principal(),
        ((X509Certificate) chain.iterator().next()).getNotAfter().toInstant());
  }

  static PrivateKey readKey(Path keyFile) throws IOException, GeneralSecurityException {
    try (Reader reader = Files.newBufferedReader(keyFile); PEMParser parser = new PEMParser(reader)) {
      Object pem = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (pem instanceof PEMKeyPair pair) {
        // PKCS#1 or SEC1; a SEC1 key may lack its public half, so only the private part is converted.
        return converter.getPrivateKey(pair.getPrivateKeyInfo());
      }
      if (pem instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      throw new GeneralSecurityException(keyFile + ": expected an unencrypted PEM private key, found "
          + (pem == null ? "nothing" : pem.getClass().getSimpleName()));
    }
  }

  /** Reloads when either file changed; a half-written renewal keeps the previous pair in use. */
  private X509KeyManager delegate() {
    Instant now = Clock.systemUTC().instant();
    if (now.isAfter(nextCheck)) {
      nextCheck = now.plus(RECHECK);
      try {
        if (!Files.getLastModifiedTime(certFile).equals(loadedCertTime)
            || !Files.getLastModifiedTime(keyFile).equals(loadedKeyTime)) {
          load();
        }
      } catch (IOException | GeneralSecurityException | RuntimeException e) {
        LOG.warn("keeping the previous webhook certificate: reloading {} failed: {}", certFile, e.getMessage());
      }
    }
    return current;
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return delegate().chooseServerAlias(keyType, issuers, null);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return delegate().chooseServerAlias(keyType, issuers, socket);
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return current.getCertificateChain(alias);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return current.getPrivateKey(alias);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return current.getServerAliases(keyType, issuers);
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }
}
