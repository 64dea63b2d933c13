package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reading the watchdog's Prometheus text in tests. */
final class Scrape {
  private Scrape() {
  }

  /** A counter or gauge without labels; fails the test when it is missing. */
  static double value(String scrape, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + " (\\S+)$").matcher(scrape);
    assertThat(m.find()).as(name + " in\n" + scrape).isTrue();
    return Double.parseDouble(m.group(1));
  }
}
