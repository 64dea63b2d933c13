package io.pgconmgr.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SyscallsTest {

    private static final String SUMMARY = """
            % time     seconds  usecs/call     calls    errors syscall
            ------ ----------- ----------- --------- --------- ----------------
             55.00    0.110000           5     20000           recvfrom
             40.00    0.080000           4     20000           sendto
              5.00    0.010000           1      7000      3000 epoll_wait
            ------ ----------- ----------- --------- --------- ----------------
            100.00    0.200000           4     47000      3000 total
            """;

    @Test
    void readsCallsPerSyscallWithOrWithoutErrorsAndSkipsTheTotal() {
        List<Syscalls.Count> counts = Syscalls.parse(SUMMARY);

        assertThat(counts).extracting(Syscalls.Count::name).containsExactly("recvfrom", "sendto", "epoll_wait");
        assertThat(counts).extracting(Syscalls.Count::calls).containsExactly(20000L, 20000L, 7000L);
    }

    @Test
    void dividesByTransactions() {
        assertThat(Syscalls.perTransaction(Syscalls.parse(SUMMARY), 10000))
                .isEqualTo("4.7 per tx (recvfrom 2.0, sendto 2.0, epoll_wait 0.7)");
        assertThat(Syscalls.perTransaction(List.of(), 10000)).isEqualTo("n/a");
    }
}
