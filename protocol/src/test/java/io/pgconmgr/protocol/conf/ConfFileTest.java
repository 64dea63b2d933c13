package io.pgconmgr.protocol.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ConfFileTest {

  private static ConfEntry single(String text) {
    ConfFile f = ConfFile.parse(text, "t.conf");
    assertThat(f.errors()).isEmpty();
    assertThat(f.entries()).hasSize(1);
    return f.entries().get(0);
  }

  @Test
  void readsNameEqualsValueWithOrWithoutSpacesAndEquals() {
    assertThat(single("port = 5432").value()).isEqualTo("5432");
    assertThat(single("port=5432").value()).isEqualTo("5432");
    assertThat(single("port 5432").value()).isEqualTo("5432");
    assertThat(single("  \tport\t=\t5432  ").value()).isEqualTo("5432");
  }

  @Test
  void ignoresBlankLinesAndCommentsIncludingTrailingOnes() {
    ConfFile f = ConfFile.parse("""
        # a comment
           \t
        port = 5432 # trailing comment
        syslog_ident = 'a # not a comment' # but this is
        """, "t.conf");
    assertThat(f.errors()).isEmpty();
    assertThat(f.entries()).extracting(ConfEntry::name, ConfEntry::value, ConfEntry::line)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("port", "5432", 3),
            org.assertj.core.groups.Tuple.tuple("syslog_ident", "a # not a comment", 4));
  }

  @Test
  void namesAreCaseInsensitiveAndMayHaveDottedParts() {
    assertThat(single("Watchdog.Port = 27545").name()).isEqualTo("watchdog.port");
    assertThat(single("BACKEND_HOST0 = 'x'").name()).isEqualTo("backend_host0");
    assertThat(single("a.b.c$1 = 1").name()).isEqualTo("a.b.c$1");
  }

  @Test
  void resolvesQuotesAndBackslashEscapesLikePostgresql() {
    assertThat(single("s = 'it''s'").value()).isEqualTo("it's");
    assertThat(single("s = 'it\\'s'").value()).isEqualTo("it's");
    assertThat(single("s = 'back\\\\slash'").value()).isEqualTo("back\\slash");
    assertThat(single("s = 'a\\tb\\nc\\rd\\be\\ff'").value()).isEqualTo("a\tb\nc\rd\be\ff");
    assertThat(single("s = '\\101\\7x'").value()).isEqualTo("A\u0007x");
    assertThat(single("s = '\\q'").value()).isEqualTo("q");
    assertThat(single("s = ''").value()).isEmpty();
    assertThat(single("s = 'with spaces'").quoted()).isTrue();
    assertThat(single("s = bare").quoted()).isFalse();
  }

  @Test
  void quoteIsTheInverseOfReading() {
    String nasty = "a'b\\c\nd\te\u0001f\u007fg h # i é";
    String text = "s = " + ConfFile.quote(nasty);
    assertThat(text).doesNotContain("\n");
    assertThat(single(text).value()).isEqualTo(nasty);
  }

  @Test
  void bareValuesMayHoldAddressesPathsAndSignedNumbers() {
    assertThat(single("h = db-1.example.com").value()).isEqualTo("db-1.example.com");
    assertThat(single("h = 10.0.0.1").value()).isEqualTo("10.0.0.1");
    assertThat(single("h = /var/run/x").value()).isEqualTo("/var/run/x");
    assertThat(single("n = -5").value()).isEqualTo("-5");
    assertThat(single("t = read-write").value()).isEqualTo("read-write");
  }

  @Test
  void acceptsWindowsLineEnds() {
    ConfFile f = ConfFile.parse("port = 1\r\nhttp_port = 2\r\n", "t.conf");
    assertThat(f.errors()).isEmpty();
    assertThat(f.entries()).extracting(ConfEntry::value).containsExactly("1", "2");
  }

  @Test
  void reportsEverySyntaxErrorWithItsLineAndKeepsTheGoodLines() {
    ConfFile f = ConfFile.parse("""
        port = 1
        = 5
        host = 'unterminated
        a = b c
        empty =
        s = 'x' 'y'
        weird = a;b
        9name = 1
        ok = 2
        """, "t.conf");
    assertThat(f.errors()).extracting(ConfProblem::toString).containsExactly(
        "t.conf:2: syntax error near \"= 5\": a setting must start with a parameter name",
        "t.conf:3: the quoted value of host has no closing quote (a string must end on its line)",
        "t.conf:4: syntax error near \"c\": only one value per line; put a value with spaces or special characters in single quotes",
        "t.conf:5: parameter empty has no value",
        "t.conf:6: syntax error near \"'y'\": only one value per line; put a value with spaces or special characters in single quotes",
        "t.conf:7: syntax error near \";b\": only one value per line; put a value with spaces or special characters in single quotes",
        "t.conf:8: syntax error near \"9name = 1\": a setting must start with a parameter name");
    assertThat(f.entries()).extracting(ConfEntry::name).containsExactly("port", "ok");
    assertThatThrownBy(f::requireWellFormed).isInstanceOf(ConfException.class)
        .hasMessageStartingWith("7 errors:\nt.conf:2: ");
  }

  @Test
  void settingsKeepTheLastValueOfARepeatedName() {
    ConfFile f = ConfFile.parse("a = 1\nb = 2\nA = 3\n", "t.conf");
    assertThat(f.entries()).hasSize(3);
    assertThat(f.settings()).containsOnlyKeys("a", "b");
    assertThat(f.get("a")).get().extracting(ConfEntry::value, ConfEntry::line).containsExactly("3", 3);
    assertThat(f.get("missing")).isEmpty();
  }

  @Test
  void typedReadersExplainBadValues() throws Exception {
    assertThat(single("p = 65535").intValue(1, 65535)).isEqualTo(65535);
    assertThat(single("p = '42'").intValue(1, 65535)).isEqualTo(42);
    assertThat(single("p = +7").intValue(1, 65535)).isEqualTo(7);
    assertThatThrownBy(() -> single("p = 65536").intValue(1, 65535))
        .hasMessage("t.conf:1: p = 65536 is out of range: must be between 1 and 65535");
    assertThatThrownBy(() -> single("p = 99999999999999999999").intValue(0, Integer.MAX_VALUE))
        .hasMessage("t.conf:1: p = 99999999999999999999 is out of range: must be at least 0");
    assertThatThrownBy(() -> single("p = 0x10").intValue(1, 65535))
        .hasMessage("t.conf:1: p = 0x10 is not a whole number in decimal");
    assertThatThrownBy(() -> single("p = 10s").intValue(1, 65535))
        .hasMessage("t.conf:1: p = 10s is not a whole number in decimal");
    assertThatThrownBy(() -> single("p = 010").intValue(1, 65535))
        .hasMessage("t.conf:1: p = 010 has a leading zero: write the number in decimal without it");
    assertThat(single("b = on").booleanValue()).isTrue();
    assertThat(single("b = FALSE").booleanValue()).isFalse();
    assertThat(single("b = y").booleanValue()).isTrue();
    assertThatThrownBy(() -> single("b = o").booleanValue())
        .hasMessage("t.conf:1: b = o is not a boolean: use on or off (or true/false, yes/no, 1/0)");
    assertThat(single("f = local3").enumValue(ConmgrConf.SyslogFacility.class))
        .isEqualTo(ConmgrConf.SyslogFacility.LOCAL3);
    assertThatThrownBy(() -> single("f = 'LOCAL8'").enumValue(ConmgrConf.SyslogFacility.class))
        .hasMessage("t.conf:1: f = 'LOCAL8' is not valid: must be one of LOCAL0, LOCAL1, LOCAL2, LOCAL3, LOCAL4, LOCAL5, LOCAL6, LOCAL7");
  }

  @Test
  void servesAWatchdogStyleSettingsFile() throws Exception {
    ConfFile f = ConfFile.parse("""
        watchdog.port = 27545          # heartbeat port
        watchdog.check_attr_interval = 1000
        Watchdog.Enabled = on
        """, "watchdog.conf").requireWellFormed();
    assertThat(f.get("watchdog.port").orElseThrow().intValue(1, 65535)).isEqualTo(27545);
    assertThat(f.get("WATCHDOG.CHECK_ATTR_INTERVAL").orElseThrow().intValue(1, Integer.MAX_VALUE)).isEqualTo(1000);
    assertThat(f.get("watchdog.enabled").orElseThrow().booleanValue()).isTrue();
    assertThat(f.get("watchdog.check_attr_interval").orElseThrow().problem("too fast").toString())
        .isEqualTo("watchdog.conf:2: too fast");
  }

  @Test
  void suggestsTheClosestKnownNameOnlyWhenItIsClose() {
    var known = java.util.List.of("watchdog.port", "watchdog.check_attr_interval");
    assertThat(ConfFile.closestName("watchdog.prot", known)).contains("watchdog.port");
    assertThat(ConfFile.closestName("colour", known)).isEmpty();
  }
}
