package io.pgconmgr.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PerfDsoTest {

    @Test
    void namesKernelAndJitCodeAndKeepsTheOrderOfPerf() {
        String report = """
                    83.62%  [kernel.kallsyms]
                    11.03%  perf-4242.map
                     2.28%  libjvm.so
                     1.84%  libc.so.6
                """;

        assertThat(PerfDso.summarize(report)).isEqualTo("kernel 83.62%, JIT code 11.03%, libjvm.so 2.28%, libc.so.6 1.84%");
    }

    @Test
    void saysNotAvailableForAnEmptyReport() {
        assertThat(PerfDso.summarize("Error:\nThe perf.data data has no samples!\n")).isEqualTo("n/a");
    }
}
