package io.pgconmgr.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProxyOverheadTest {

    @Test
    void keepsTheGivenSubsetAndRejectsUnknownModes() {
        assertThat(ProxyOverhead.modes(" connect,persistent")).containsExactly("connect", "persistent");
        assertThat(ProxyOverhead.modes(String.join(",", ProxyOverhead.MODES))).containsExactlyElementsOf(ProxyOverhead.MODES);
        assertThatThrownBy(() -> ProxyOverhead.modes("persistent,bulk"))
                .hasMessage("--modes: unknown mode 'bulk'; known: persistent, latency, connect");
    }

    @Test
    void comparesConmgrWithEachOtherProxyRoundByRound() {
        var direct = new ProxyOverhead.Target("direct", 1, 0);
        var bouncer = new ProxyOverhead.Target("PgBouncer", 2, 20);
        var conmgr = new ProxyOverhead.Target("conmgr", 3, 30, "http://127.0.0.1:1/metrics", "http://127.0.0.1:2/metrics");
        Map<ProxyOverhead.Target, List<Double>> tps = Map.of(direct, List.of(100.0, 100.0, 100.0),
                bouncer, List.of(50.0, 60.0, 40.0), conmgr, List.of(55.0, 54.0, 44.0));
        Map<ProxyOverhead.Target, List<Double>> cpu = Map.of(direct, List.of(Double.NaN, Double.NaN, Double.NaN),
                bouncer, List.of(10.0, 10.0, 10.0), conmgr, List.of(11.0, 12.0, 10.0));

        assertThat(ProxyOverhead.pairedComparisons(List.of(direct, bouncer, conmgr), tps, cpu)).containsExactly(
                "conmgr vs PgBouncer: more tps in 2 of 3 rounds, tps ratio 1.03 (0.90-1.10; 95 % CI 0.75-1.32: level), "
                        + "CPU per transaction ratio 1.10 (1.00-1.20; 95 % CI 0.85-1.35: level)");
    }

    @Test
    void comparesOnlyTheTpsOfTheKernelRelayWhoseWorkIsChargedToOtherProcesses() {
        var sockmap = new ProxyOverhead.Target(ProxyOverhead.SOCKMAP_RELAY, 2, 20);
        var conmgr = new ProxyOverhead.Target("conmgr", 3, 30, "http://127.0.0.1:1/metrics", "http://127.0.0.1:2/metrics");
        Map<ProxyOverhead.Target, List<Double>> tps = Map.of(sockmap, List.of(80.0, 80.0), conmgr, List.of(60.0, 64.0));
        Map<ProxyOverhead.Target, List<Double>> cpu = Map.of(sockmap, List.of(0.0, 0.02), conmgr, List.of(12.0, 12.0));

        assertThat(ProxyOverhead.pairedComparisons(List.of(sockmap, conmgr), tps, cpu)).containsExactly(
                "conmgr vs " + ProxyOverhead.SOCKMAP_RELAY + ": more tps in 0 of 2 rounds, tps ratio 0.78 (0.75-0.80),"
                        + " CPU not comparable (the kernel relays)");
    }

    @Test
    void comparesOnlyTheTpsOfAConmgrWhoseConnectionsTheKernelRelays() {
        var bouncer = new ProxyOverhead.Target("PgBouncer", 2, 20);
        var kernel = new ProxyOverhead.Target(ProxyOverhead.KERNEL_CONMGR, 3, 30, "http://127.0.0.1:1/metrics",
                "http://127.0.0.1:2/metrics");
        Map<ProxyOverhead.Target, List<Double>> tps = Map.of(bouncer, List.of(60.0, 64.0), kernel, List.of(80.0, 80.0));
        Map<ProxyOverhead.Target, List<Double>> cpu = Map.of(bouncer, List.of(12.0, 12.0), kernel, List.of(0.5, 0.5));

        assertThat(ProxyOverhead.pairedComparisons(List.of(bouncer, kernel), tps, cpu)).containsExactly(
                ProxyOverhead.KERNEL_CONMGR + " vs PgBouncer: more tps in 2 of 2 rounds, tps ratio 1.29 (1.25-1.33),"
                        + " CPU not comparable (the kernel relays)");
    }

    @Test
    void callsALeadOnlyWhenTheConfidenceIntervalOfTheRoundsExcludesALevelResult() {
        // Mean 1.20, sample standard deviation 0.0158, t(4; 0.975) = 2.776: 1.20 +- 0.02.
        assertThat(ProxyOverhead.summary(List.of(1.18, 1.20, 1.22, 1.19, 1.21), "more tps", "fewer tps"))
                .isEqualTo("1.20 (1.18-1.22; 95 % CI 1.18-1.22: more tps)");
        assertThat(ProxyOverhead.summary(List.of(0.70, 0.72, 0.68, 0.71), "more CPU", "less CPU"))
                .isEqualTo("0.70 (0.68-0.72; 95 % CI 0.68-0.73: less CPU)");
        // Most rounds ahead, but one round far behind: the interval spans 1.
        assertThat(ProxyOverhead.summary(List.of(1.05, 1.06, 1.04, 0.80), "more tps", "fewer tps"))
                .isEqualTo("0.99 (0.80-1.06; 95 % CI 0.79-1.19: level)");
        // Two rounds give no interval.
        assertThat(ProxyOverhead.summary(List.of(1.10, 1.20), "more tps", "fewer tps")).isEqualTo("1.15 (1.10-1.20)");
    }
}
