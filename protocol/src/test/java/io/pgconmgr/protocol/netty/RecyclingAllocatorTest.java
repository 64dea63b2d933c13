package io.pgconmgr.protocol.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
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
      ByteBuf first = ALLOC.directBuffer(100, 20_000);
      long address = first.memoryAddress();
      first.writeBytes("some bytes".getBytes(StandardCharsets.US_ASCII)).readByte();
      first.markReaderIndex().markWriterIndex();
      int free = RecyclingAllocator.freeOnThisThread();
      first.release();
      assertThat(RecyclingAllocator.freeOnThisThread()).isEqualTo(free + 1);

      ByteBuf second = ALLOC.ioBuffer(2048);
      assertThat(second.memoryAddress()).isEqualTo(address);
      assertThat(second.refCnt()).isEqualTo(1);
      assertThat(second.readerIndex()).isZero();
      assertThat(second.writerIndex()).isZero();
      assertThat(second.capacity()).isEqualTo(RecyclingAllocator.BUFFER_SIZE);
      assertThat(second.maxCapacity()).as("the new request's, not 20,000").isEqualTo(Integer.MAX_VALUE);
      second.resetWriterIndex().resetReaderIndex();
      assertThat(second.writerIndex()).as("marks are reset too").isZero();
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
    assertThat(plain.isAlive()).isFalse();
    assertThat(failure).isEmpty();
  }

  @Test
  void theLeakDetectorSamplesNoneAtSimpleAndTracksEveryOneAtParanoid() throws Exception {
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

  @Test
  void aSliceKeepsItsParentOffTheFreeList() throws Exception {
    onLoop(() -> {
      ByteBuf buf = ALLOC.ioBuffer(64).writeInt(42).writeInt(43);
      ByteBuf slice = buf.retainedSlice(0, 4);
      int free = RecyclingAllocator.freeOnThisThread();
      buf.release();
      assertThat(RecyclingAllocator.freeOnThisThread()).isEqualTo(free);
      assertThat(slice.readInt()).isEqualTo(42);
      slice.release();
      assertThat(RecyclingAllocator.freeOnThisThread()).isEqualTo(free + 1);
      return null;
    });
  }

  @Test
  void aSecondReleaseFailsAndRecyclesNothing() throws Exception {
    onLoop(() -> {
      ByteBuf buf = ALLOC.ioBuffer(64);
      int free = RecyclingAllocator.freeOnThisThread();
      buf.release();
      assertThatThrownBy(buf::release).isInstanceOf(IllegalReferenceCountException.class);
      assertThat(RecyclingAllocator.freeOnThisThread()).isEqualTo(free + 1);
      return null;
    });
  }

  /** A buffer read on one loop may be released on another (a write to a channel of another loop). */
  @Test
  void aBufferReleasedOnAnotherLoopJoinsThatLoopsFreeList() throws Exception {
    EventLoopGroup two = NettyTransport.newEventLoopGroup(2, new DefaultThreadFactory("recycling-two", true));
    try {
      EventLoop a = two.next();
      EventLoop b = two.next();
      assertThat(a).isNotSameAs(b);
      int freeA = a.submit(RecyclingAllocator::freeOnThisThread).get(10, TimeUnit.SECONDS);
      int freeB = b.submit(RecyclingAllocator::freeOnThisThread).get(10, TimeUnit.SECONDS);
      ByteBuf buf = a.submit(() -> ALLOC.ioBuffer(64)).get(10, TimeUnit.SECONDS);
      b.submit(() -> buf.release()).get(10, TimeUnit.SECONDS);
      assertThat(a.submit(RecyclingAllocator::freeOnThisThread).get(10, TimeUnit.SECONDS)).isEqualTo(freeA);
      assertThat(b.submit(RecyclingAllocator::freeOnThisThread).get(10, TimeUnit.SECONDS)).isEqualTo(freeB + 1);
    } finally {
      two.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /** Bytes through a real socket pair, both ends on recycled buffers, come back intact. */
  @Test
  void anEchoOverRecycledBuffersKeepsEveryByte() throws Exception {
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    List<ByteBufAllocator> allocators = new CopyOnWriteArrayList<>();
    Channel server = new ServerBootstrap().group(group).channel(NettyTransport.serverSocketChannelType(group))
        .childOption(ChannelOption.ALLOCATOR, ALLOC)
        .childHandler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            allocators.add(((ByteBuf) msg).alloc());
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
                allocators.add(buf.alloc());
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
      assertThat(allocators).as("every read on both sides filled a recycled buffer").isNotEmpty()
          .allSatisfy(a -> assertThat(a).isSameAs(ALLOC));
    } finally {
      client.close().sync();
      server.close().sync();
    }
  }
}
