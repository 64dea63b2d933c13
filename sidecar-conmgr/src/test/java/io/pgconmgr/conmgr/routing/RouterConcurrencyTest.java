package io.pgconmgr.conmgr.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgconmgr.protocol.conf.BackendInstance;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import io.pgconmgr.protocol.heartbeat.Attributes;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The router under concurrent routing and link loss, as on conmgr's event loops. */
class RouterConcurrencyTest {

  @Test
  void aClientRoutedWhileTheLinkGoesDownIsFailedToo() throws Exception {
    InstanceTable table = new InstanceTable(List.of(new BackendInstance(0, "h0", null, 5432, 27545)),
        java.time.Clock.systemUTC());
    Router router = new Router(table, new ClientRegistry());
    table.addListener((before, after) -> {
      if (before.link() == LinkState.UP && after.link() != LinkState.UP) {
        router.failAll(after, "lost"); // as Conmgr wires it
      }
    });
    Attributes primary = new Attributes(true, false, false, 1, 42, -1, 170006);
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong routed = new AtomicLong();
    AtomicLong[] rounds = {new AtomicLong(), new AtomicLong()};
    ClientRegistry.Client client = (i, r) -> { };
    Thread[] threads = new Thread[2];
    for (int t = 0; t < 2; t++) {
      AtomicLong myRounds = rounds[t];
      threads[t] = new Thread(() -> {
        while (!done.get()) {
          if (router.route(TargetSessionAttrs.ANY, Set.of(), client).isPresent()) {
            routed.incrementAndGet();
          }
          myRounds.incrementAndGet();
        }
      });
      threads[t].start();
    }
    // Link flaps while two threads route: after each loss, no client may stay bound to the instance.
    int leaked = 0;
    int flaps = 0;
    long until = System.nanoTime() + 3_000_000_000L;
    while (System.nanoTime() < until) {
      table.linkUp(0, primary, null);
      awaitRounds(rounds, 1);
      table.linkDown(0, "lost");
      flaps++;
      // Let every route call that was under way at the loss finish; none can succeed after it.
      awaitRounds(rounds, 2);
      int left = router.registry().count(0);
      if (left > 0) {
        leaked += left;
        router.registry().failAll(table.get(0), "clean up");
      }
    }
    done.set(true);
    for (Thread t : threads) {
      t.join();
    }
    System.out.println(flaps + " link losses, " + routed.get() + " clients routed, " + leaked + " left bound to a lost link");
    assertThat(leaked).isZero();
  }

  private static void awaitRounds(AtomicLong[] rounds, int n) {
    long a = rounds[0].get();
    long b = rounds[1].get();
    while (rounds[0].get() < a + n || rounds[1].get() < b + n) {
      Thread.onSpinWait();
    }
  }
}
