package io.pgconmgr.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PgbenchTest {

    private static final String PERSISTENT = """
            pgbench (15.18 (Debian 15.18-0+deb12u1), server 17.6)
            transaction type: <builtin: select only>
            scaling factor: 1
            query mode: simple
            number of clients: 8
            number of threads: 2
            maximum number of tries: 1
            duration: 3 s
            number of transactions actually processed: 133651
            number of failed transactions: 0 (0.000%)
            latency average = 0.179 ms
            initial connection time = 9.282 ms
            tps = 44607.877495 (without initial connection time)
            """;

    @Test
    void readsThroughputLatencyAndTransactionsOfAPersistentRun() {
        Pgbench.Result r = Pgbench.parse(PERSISTENT, 0);

        assertThat(r.tps()).isEqualTo(44607.877495);
        assertThat(r.transactions()).isEqualTo(133651);
        assertThat(r.latencyMs()).isEqualTo(0.179);
        assertThat(r.ok()).isTrue();
    }

    @Test
    void readsThroughputOfAConnectPerTransactionRun() {
        String out = PERSISTENT.replace("tps = 44607.877495 (without initial connection time)",
                "tps = 598.414767 (including reconnection times)");

        assertThat(Pgbench.parse(out, 0).tps()).isEqualTo(598.414767);
    }

    @Test
    void anAbortedRunIsNotOkAndKeepsItsErrorLines() {
        String out = "pgbench: error: connection to server at \"127.0.0.1\", port 25433 failed: Connection refused\n"
                + PERSISTENT + "pgbench: error: Run was aborted; the above results are incomplete.\n";

        Pgbench.Result r = Pgbench.parse(out, 2);

        assertThat(r.ok()).isFalse();
        assertThat(r.errors()).contains("Connection refused");
    }

    @Test
    void failedTransactionsMakeARunNotOk() {
        String out = PERSISTENT.replace("number of failed transactions: 0 (0.000%)", "number of failed transactions: 3 (0.002%)");

        assertThat(Pgbench.parse(out, 0).ok()).isFalse();
    }

    @Test
    void outputWithoutSummaryGivesNoThroughput() {
        Pgbench.Result r = Pgbench.parse("pgbench: error: could not connect\n", 1);

        assertThat(r.tps()).isNaN();
        assertThat(r.ok()).isFalse();
    }
}
