package io.pgconmgr.protocol.heartbeat;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The recycling allocator on a real I/O thread, off it, and under a real socket echo. */
class RecyclingAllocatorTest {
  private static final RecyclingAllocator ALLOC = RecyclingAllocator.INSTANCE;

  private static EventLoopGroup group;
  private static EventLoop loop;

  @BeforeAll
  static void startLoop() {
    group = NettyTransport.newEventLoopGroup(1, new DefaultThreadFactory("recycling-test", true));
    loop = group.next();
  }

  @AfterAll
  static void stopLoop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static <T> T onLoop(Callable<T> task) throws Exception {
    return loop.submit(task).get(10, TimeUnit.SECONDS);
  }

  @Test
  void aReleasedBufferIsTheNextOneTakenOnTheSameIoThread() throws Exception {
    onLoop(() -> {
      ByteBuf first = ALLOC.ioBuffer(100);
      long address = first.memoryAddress();
      first.writeBytes("some bytes".getBytes(StandardCharsets.US_ASCII)).readByte();
      int free = RecyclingAllocator.freeOnThisThread();
      first.release();
      assertThat(RecyclingAllocator.freeOnThisThread()).isEqualTo(free + 1);

      ByteBuf second = ALLOC.ioBuffer(2048);
      assertThat(second.memoryAddress()).isEqualTo(address);
      assertThat(second.refCnt()).isEqualTo(1);
      assertThat(second.readerIndex()).isZero();
      assertThat(second.writerIndex()).isZero();
      assertThat(second.capacity()).isEqualTo(RecyclingAllocator.BUFFER_SIZE);
      assertThat(second.maxCapacity()).isEqualTo(Integer.MAX_VALUE);
      second.resetReaderIndex();
      assertThat(second.readerIndex()).as("marks are reset too").isZero();
      assertThat(RecyclingAllocator.freeOnThisThread()).isEqualTo(free);
      second.release();
      return null;
    });
  }

  @Test
  void aThreadKeepsAtMostMaxFreeBuffers() throws Exception {
    int kept = onLoop(() -> {
      List<ByteBuf> taken = new ArrayList<>();
      for (int i = 0; i < RecyclingAllocator.MAX_FREE + 10; i++) {
        taken.add(ALLOC.directBuffer(64));
      }
      taken.forEach(ByteBuf::release);
      return RecyclingAllocator.freeOnThisThread();
    });
    assertThat(kept).isEqualTo(RecyclingAllocator.MAX_FREE);
  }

  @Test
  void aResizedBufferIsNotRecycled() throws Exception {
    onLoop(() -> {
      ByteBuf buf = ALLOC.ioBuffer(16);
      buf.writeZero(RecyclingAllocator.BUFFER_SIZE + 1);
      assertThat(buf.capacity()).isGreaterThan(RecyclingAllocator.BUFFER_SIZE);
      int free = RecyclingAllocator.freeOnThisThread();
      buf.release();
      assertThat(RecyclingAllocator.freeOnThisThread()).isEqualTo(free);
      return null;
    });
  }

  @Test
  void largeOrCappedRequestsGoToNettysAllocator() throws Exception {
    onLoop(() -> {
      ByteBuf large = ALLOC.directBuffer(RecyclingAllocator.BUFFER_SIZE + 1);
      ByteBuf capped = ALLOC.directBuffer(10, 100);
      assertThat(large.alloc()).isNotSameAs(ALLOC);
      assertThat(capped.alloc()).isNotSameAs(ALLOC);
      assertThat(capped.maxCapacity()).isEqualTo(100);
      int free = RecyclingAllocator.freeOnThisThread();
      large.release();
      capped.release();
      assertThat(RecyclingAllocator.freeOnThisThread()).isEqualTo(free);
      return null;
    });
  }

  @Test
  void offTheIoThreadsNothingIsKept() throws Exception {
    Thread plain = new Thread(() -> {
      ByteBuf a = ALLOC.ioBuffer(10);
      a.release();
      assertThat(RecyclingAllocator.freeOnThisThread()).isZero();
    });
    List<Throwable> failure = new ArrayList<>();
    plain.setUncaughtExceptionHandler((t, e) -> failure.add(e));
    plain.start();
    plain.join(10_000);
    assertThat(failure).isEmpty();
  }

  @Test
  void theLeakDetectorTracksTheBuffersOnlyAtItsAdvancedLevels() throws Exception {
    ResourceLeakDetector.Level before = ResourceLeakDetector.getLevel();
    try {
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
      // SIMPLE samples one allocation in 128: none of 1,000 may be tracked.
      int wrapped = onLoop(() -> {
        int n = 0;
        for (int i = 0; i < 1_000; i++) {
          ByteBuf buf = ALLOC.ioBuffer(10);
          n += buf.unwrap() != null ? 1 : 0;
          buf.release();
        }
        return n;
      });
      assertThat(wrapped).isZero();
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
      ByteBuf tracked = onLoop(() -> ALLOC.ioBuffer(10));
      assertThat(tracked.unwrap()).as("wrapped by the leak detector").isNotNull();
      onLoop(tracked::release);
    } finally {
      ResourceLeakDetector.setLevel(before);
    }
  }

  /** Netty's loops report their active time only when they may move threads; ours never do. */
  @Test
  void ourLoopsDoNotMeasureTheirActiveTime() throws Exception {
    EventExecutor executor = group.next();
    Method supported = findMethod(executor.getClass(), "isSuspensionSupported");
    supported.setAccessible(true);
    assertThat(supported.invoke(executor)).isEqualTo(false);
  }

  /** Bytes through a real socket pair, both ends on recycled buffers, come back intact. */
  @Test
  void anEchoOverRecycledBuffersKeepsEveryByte() throws Exception {
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    Channel server = new ServerBootstrap().group(group).channel(NettyTransport.serverSocketChannelType(group))
        .childOption(ChannelOption.ALLOCATOR, ALLOC)
        .childHandler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    Channel client = new Bootstrap().group(group).channel(NettyTransport.socketChannelType(group))
        .option(ChannelOption.ALLOCATOR, ALLOC)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf buf = (ByteBuf) msg;
                received.add(buf.toString(StandardCharsets.US_ASCII));
                buf.release();
              }
            });
          }
        })
        .connect(server.localAddress()).sync().channel();
    try {
      StringBuilder sent = new StringBuilder();
      StringBuilder echoed = new StringBuilder();
      for (int i = 0; i < 200; i++) {
        String message = "message " + i + ";";
        sent.append(message);
        client.writeAndFlush(ALLOC.directBuffer(64).writeBytes(message.getBytes(StandardCharsets.US_ASCII)))
            .sync();
      }
      while (echoed.length() < sent.length()) {
        String part = received.poll(10, TimeUnit.SECONDS);
        assertThat(part).as("echo of %s, got %s so far", sent, echoed).isNotNull();
        echoed.append(part);
      }
      assertThat(echoed.toString()).isEqualTo(sent.toString());
      assertThat(onLoop(RecyclingAllocator::freeOnThisThread)).isPositive();
    } finally {
      client.close().sync();
      server.close().sync();
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
