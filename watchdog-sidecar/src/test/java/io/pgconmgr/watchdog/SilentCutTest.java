package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.testkit.NetNamespace;
import io.pgconmgr.testkit.PgCluster;
import io.pgconmgr.testkit.PgInstance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The case the watchdog exists for: PostgreSQL and its watchdog process on their own test host
 * (a network namespace), the link to the client host cut silently (iptables DROP, no RST).
 */
class SilentCutTest {

  @Test
  void silentlyCutClientHostLosesItsBackendsWithinTheHeartbeatTimeout(@TempDir Path dir)
      throws Exception {
    NetNamespace.assumeAvailable();
    try (NetNamespace ns = NetNamespace.create();
         PgCluster cluster = PgCluster.builder().namePrefix("wdcut").primaryIn(ns).start()) {
      PgInstance pg = cluster.primary();
      String clientIp = ns.peerAddress(); // the root namespace, as the test host sees it
      try (WatchdogProcess w = WatchdogProcess.start(dir,
               "host=" + ns.hostAddress() + " port=" + pg.port() + " user=postgres dbname=postgres",
               List.of(), ns, "watchdog.check_attr_interval = 500");
           TestPeer peer = TestPeer.session(clientIp, w.heartbeatAddress(), 500, 2000);
           Connection client = pg.connect("postgres", new Properties())) {
        peer.awaitAttributes(Duration.ofSeconds(10), Attributes::reachable);
        int pid = Pg.pid(client);
        Thread.sleep(2500); // healthy past the timeout
        assertThat(w.http("/sessions").body()).contains("\"conmgr_addr\":\"" + clientIp + "\"");
        assertThat(Pg.alive(client)).isTrue();

        ns.cut();
        Instant cutAt = Instant.now();
        Thread.sleep(4000); // timeout 2 s plus margin, while nothing passes the link
        ns.restore();

        await().atMost(Duration.ofSeconds(10)).until(() -> w.http("/metrics").body()
            .contains("watchdog_backends_terminated_total 1.0"));
        // The watchdog's log says when (same host clock): "<ISO time> INFO ... terminated backend pid=N"
        Matcher m = Pattern.compile("(?m)^(\\S+) INFO .*terminated backend pid=" + pid + " ")
            .matcher(Files.readString(w.log));
        assertThat(m.find()).as("termination logged").isTrue();
        long ms = Duration.between(cutAt, OffsetDateTime.parse(m.group(1)).toInstant()).toMillis();
        System.out.printf("silent cut: backend terminated %d ms after the cut"
            + " (heartbeat_timeout 2000 ms, interval 500 ms)%n", ms);
        assertThat(ms).isBetween(1000L, 2000L + 1500L);
        assertThat(w.http("/metrics").body())
            .contains("watchdog_peers_lost_total{reason=\"timeout\"} 1.0");
        assertThat(pg.queryScalar("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid))
            .isEqualTo("0");
        assertThat(Pg.alive(client)).isFalse();
      }
    }
  }
}
