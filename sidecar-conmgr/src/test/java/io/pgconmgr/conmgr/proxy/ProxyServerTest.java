package io.pgconmgr.conmgr.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.MessageSizeEstimator;
import io.pgconmgr.protocol.netty.RecyclingAllocator;
import org.junit.jupiter.api.Test;

class ProxyServerTest {

  /**
   * A queued relay buffer counts at its capacity: 100-byte reads into 16 KiB buffers would otherwise
   * let some 330 buffers (5 MiB) queue before the 32 KiB high-water mark stops the reading.
   */
  @Test
  void queuedRelayBuffersCountAtTheirCapacity() {
    MessageSizeEstimator.Handle size = ProxyServer.RELAY_SIZE.newHandle();
    ByteBuf small = RecyclingAllocator.INSTANCE.directBuffer(100).writeZero(100);
    ByteBuf exact = Unpooled.buffer(10, 10).writeZero(10);
    try {
      assertThat(size.size(small)).isEqualTo(RecyclingAllocator.BUFFER_SIZE);
      assertThat(size.size(exact)).isEqualTo(10);
      assertThat(size.size("not a buffer")).isZero();
    } finally {
      small.release();
      exact.release();
    }
  }

  @Test
  void listenAddressesAreSplitAndStarMeansEveryAddress() {
    assertThat(ProxyServer.hosts(" 127.0.0.1, *,,::1 ")).containsExactly("127.0.0.1", "0.0.0.0", "::1");
  }
}
