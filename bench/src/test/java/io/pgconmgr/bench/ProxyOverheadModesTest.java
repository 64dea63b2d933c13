package io.pgconmgr.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProxyOverheadModesTest {

    @Test
    void keepsTheGivenSubsetAndRejectsUnknownModes() {
        assertThat(ProxyOverhead.modes(" connect,persistent")).containsExactly("connect", "persistent");
        assertThat(ProxyOverhead.modes(String.join(",", ProxyOverhead.MODES))).containsExactlyElementsOf(ProxyOverhead.MODES);
        assertThatThrownBy(() -> ProxyOverhead.modes("persistent,bulk"))
                .hasMessage("--modes: unknown mode 'bulk'; known: persistent, latency, connect");
    }
}
