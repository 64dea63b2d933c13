package io.pgconmgr.protocol.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.lang.reflect.Method;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The event-loop groups and channels our sidecars get. */
class NettyTransportTest {
  private static EventLoopGroup group;

  @BeforeAll
  static void startGroup() {
    group = NettyTransport.newEventLoopGroup(1, new DefaultThreadFactory("transport-test", true));
  }

  @AfterAll
  static void stopGroup() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /**
   * Netty's loops time their own I/O when they may move to another thread (an auto-scaling group);
   * ours never move, and those clock reads cost the relay about 6 % of its user time.
   */
  @Test
  void ourLoopsDoNotTimeTheirOwnIo() throws Exception {
    EventExecutor loop = group.next();
    Method supported = findMethod(loop.getClass(), "isSuspensionSupported");
    supported.setAccessible(true);
    assertThat(supported.invoke(loop)).isEqualTo(false);
  }

  @Test
  void clientChannelsFitTheGroup() {
    SocketChannel channel = NettyTransport.socketChannelFactory(group).newChannel();
    try {
      assertThat(channel).isInstanceOf(NettyTransport.epollAvailable() ? EpollSocketChannel.class : NioSocketChannel.class);
      assertThat(channel.getClass()).isEqualTo(NettyTransport.socketChannelType(group));
    } finally {
      channel.unsafe().closeForcibly();
    }
  }

  private static Method findMethod(Class<?> type, String name) throws NoSuchMethodException {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      for (Method m : c.getDeclaredMethods()) {
        if (m.getName().equals(name) && m.getParameterCount() == 0) {
          return m;
        }
      }
    }
    throw new NoSuchMethodException(name);
  }
}
