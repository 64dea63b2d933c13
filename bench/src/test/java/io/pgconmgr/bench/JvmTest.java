package io.pgconmgr.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JvmTest {

    @Test
    void sumsTheHeapGenerationsOfSerialGcAndLeavesMetaspaceOut() {
        String heapInfo = """
                23521:
                 def new generation   total 116160K, used 20659K [0x0000000687400000, 0x000000068f200000, 0x0000000704d50000)
                  eden space 103296K,  20% used [0x0000000687400000, 0x000000068882cff8, 0x000000068d8e0000)
                  from space 12864K,   0% used [0x000000068d8e0000, 0x000000068d8e0000, 0x000000068e570000)
                  to   space 12864K,   0% used [0x000000068e570000, 0x000000068e570000, 0x000000068f200000)
                 tenured generation   total 258048K, used 1000K [0x0000000704d50000, 0x0000000714950000, 0x0000000800000000)
                   the space 258048K,   0% used [0x0000000704d50000, 0x0000000704d50000, 0x0000000704d50200, 0x0000000714950000)
                 Metaspace       used 8935K, committed 9088K, reserved 1114112K
                  class space    used 1062K, committed 1152K, reserved 1048576K
                """;

        assertThat(Jvm.parseHeapUsedKib(heapInfo)).isEqualTo(21659);
    }

    @Test
    void readsG1sSingleHeapLine() {
        String heapInfo = """
                 garbage-first heap   total 262144K, used 12345K [0x00000000f0000000, 0x0000000100000000)
                  region size 1024K, 3 young (3072K), 0 survivors (0K)
                 Metaspace       used 8935K, committed 9088K, reserved 1114112K
                """;

        assertThat(Jvm.parseHeapUsedKib(heapInfo)).isEqualTo(12345);
    }

    @Test
    void answersMinusOneWhenJcmdSaidNothingUseful() {
        assertThat(Jvm.parseHeapUsedKib("com.sun.tools.attach.AttachNotSupportedException: Unable to open socket file")).isEqualTo(-1);
    }
}
