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
                "conmgr vs PgBouncer: more tps in 2 of 3 rounds, tps ratio 1.03 (0.90-1.10), "
                        + "CPU per transaction ratio 1.10 (1.00-1.20)");
    }
}
