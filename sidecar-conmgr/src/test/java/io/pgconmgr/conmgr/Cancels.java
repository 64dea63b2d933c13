package io.pgconmgr.conmgr;

import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** Cancels a running statement from another thread, as an application's timeout does (PgJDBC sends a CancelRequest). */
public final class Cancels {

  private Cancels() {
  }

  public static CompletableFuture<Void> after(Statement st, Duration delay) {
    return CompletableFuture.runAsync(() -> {
      try {
        Thread.sleep(delay.toMillis());
        st.cancel();
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
  }
}
