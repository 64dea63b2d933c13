package io.pgconmgr.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConnInfoTest {

  @Test
  void mapsLibpqKeywordsToPgJdbc() {
    ConnInfo c = ConnInfo.parse("host=db.local port=5433 user=watch dbname=postgres"
        + " sslmode=require connect_timeout=3");
    assertThat(c.jdbcUrl()).isEqualTo("jdbc:postgresql://db.local:5433/postgres");
    var p = c.jdbcProperties("app", 5);
    assertThat(p.getProperty("user")).isEqualTo("watch");
    assertThat(p.getProperty("sslmode")).isEqualTo("require");
    assertThat(p.getProperty("connectTimeout")).isEqualTo("3");
    assertThat(p.getProperty("socketTimeout")).isEqualTo("5");
    assertThat(p.getProperty("ApplicationName")).isEqualTo("app");
  }

  @Test
  void hostaddrWinsOverHostAndDatabaseDefaultsToUser() {
    ConnInfo c = ConnInfo.parse("host=db.local hostaddr=::1 user=alice");
    assertThat(c.jdbcUrl()).isEqualTo("jdbc:postgresql://[::1]:5432/alice");
  }

  @Test
  void readsQuotedValuesWithEscapes() {
    ConnInfo c = ConnInfo.parse("user = 'we\\'ird name'  password='a b\\\\c'");
    assertThat(c.user()).isEqualTo("we'ird name");
    assertThat(c.password()).contains("a b\\c");
    assertThat(c.toString()).doesNotContain("a b");
  }

  @Test
  void takesThePasswordFromTheMatchingPassfileLine(@TempDir Path dir) throws Exception {
    Path pass = dir.resolve("pgpass");
    Files.write(pass, List.of("# comment", "other:5432:*:watch:wrong",
        "127.0.0.1:5432:postgres:watch:s\\:cret", "*:*:*:*:fallback"));
    ConnInfo c = ConnInfo.parse("host=127.0.0.1 user=watch dbname=postgres passfile=" + pass);
    assertThat(c.password()).contains("s:cret");
    ConnInfo d = ConnInfo.parse("host=10.0.0.1 user=x passfile=" + pass);
    assertThat(d.password()).contains("fallback");
  }

  @Test
  void rejectsWhatPgJdbcCannotDo() {
    assertThatThrownBy(() -> ConnInfo.parse("host=/var/run/postgresql"))
        .hasMessageContaining("Unix-domain socket");
    assertThatThrownBy(() -> ConnInfo.parse("host=a,b"))
        .hasMessageContaining("several hosts");
    assertThatThrownBy(() -> ConnInfo.parse("hots=a"))
        .hasMessageContaining("\"hots\" is not supported");
    assertThatThrownBy(() -> ConnInfo.parse("host"))
        .hasMessageContaining("missing \"=\"");
    assertThatThrownBy(() -> ConnInfo.parse("user='open"))
        .hasMessageContaining("unterminated");
    assertThatThrownBy(() -> ConnInfo.parse("port=99999"))
        .hasMessageContaining("between 1 and 65535");
    assertThatThrownBy(() -> ConnInfo.parse("sslmode=always"))
        .hasMessageContaining("sslmode");
  }
}
