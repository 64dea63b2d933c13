package io.pgconmgr.watchdog;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.protocol.heartbeat.Frame;
import io.pgconmgr.protocol.heartbeat.Goodbye;
import io.pgconmgr.protocol.heartbeat.Heartbeat;
import io.pgconmgr.protocol.heartbeat.HeartbeatCodec;
import io.pgconmgr.protocol.heartbeat.HeartbeatProtocol;
import io.pgconmgr.protocol.heartbeat.Hello;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.awaitility.Awaitility;

/**
 * A scriptable heartbeat client for tests, on the shared codec: it binds a chosen loopback
 * source address, records every frame it receives, and can fall silent or send raw bytes.
 */
final class TestPeer implements AutoCloseable {
  /** One event loop for every test peer of the JVM (1,000 peers in the footprint run). */
  static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(1,
      NioIoHandler.newFactory());

  /** A received frame with its arrival time. */
  record Received(Frame frame, long atNanos) {
  }

  final List<Received> received = new CopyOnWriteArrayList<>();
  private final Channel channel;
  private ScheduledFuture<?> heartbeats;
  private long sequence;

  private TestPeer(Channel channel) {
    this.channel = channel;
  }

  /** Connects from {@code sourceIp} (any free port) to the watchdog; sends nothing yet. */
  static TestPeer connect(String sourceIp, InetSocketAddress watchdog) throws InterruptedException {
    TestPeer[] holder = new TestPeer[1];
    Bootstrap b = new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            HeartbeatCodec.addTo(ch.pipeline());
            ch.pipeline().addLast(new SimpleChannelInboundHandler<Frame>() {
              @Override
              protected void channelRead0(ChannelHandlerContext ctx, Frame f) {
                holder[0].received.add(new Received(f, System.nanoTime()));
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close(); // e.g. a reset after the watchdog refused us: the test looks at frames
              }
            });
          }
        });
    var future = b.connect(watchdog, new InetSocketAddress(sourceIp, 0));
    TestPeer peer = new TestPeer(future.channel());
    holder[0] = peer;
    future.sync();
    return peer;
  }

  /** Connects, says Hello and starts heartbeats at {@code intervalMs}. */
  static TestPeer session(String sourceIp, InetSocketAddress watchdog, int intervalMs,
      int timeoutMs) throws InterruptedException {
    TestPeer p = connect(sourceIp, watchdog);
    p.send(new Hello(HeartbeatProtocol.VERSION, intervalMs, timeoutMs, "test-" + sourceIp));
    p.startHeartbeats(intervalMs);
    return p;
  }

  void send(Frame f) {
    channel.writeAndFlush(f);
  }

  /** Bytes straight onto the socket, past the encoder. */
  void sendRaw(byte[] bytes) {
    channel.writeAndFlush(Unpooled.wrappedBuffer(bytes));
  }

  void startHeartbeats(int intervalMs) {
    heartbeats = channel.eventLoop().scheduleAtFixedRate(
        () -> channel.writeAndFlush(new Heartbeat(++sequence, System.currentTimeMillis())),
        intervalMs, intervalMs, TimeUnit.MILLISECONDS);
  }

  /** Stops sending but keeps the socket open: a hung or cut-off conmgr. */
  void fallSilent() {
    if (heartbeats != null) {
      heartbeats.cancel(false);
    }
  }

  void goodbye(String reason) {
    fallSilent();
    channel.writeAndFlush(new Goodbye(reason)).syncUninterruptibly();
    channel.close().syncUninterruptibly();
  }

  boolean isOpen() {
    return channel.isActive();
  }

  void awaitClosed(Duration within) {
    Awaitility.await().atMost(within).until(() -> !channel.isActive());
  }

  InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  <T extends Frame> List<T> frames(Class<T> type) {
    return received.stream().map(Received::frame).filter(type::isInstance).map(type::cast)
        .toList();
  }

  /** Arrival times (ns) of the heartbeats received so far. */
  List<Long> heartbeatTimes() {
    return received.stream().filter(r -> r.frame() instanceof Heartbeat)
        .map(Received::atNanos).toList();
  }

  Optional<Attributes> lastAttributes() {
    List<Attributes> a = frames(Attributes.class);
    return a.isEmpty() ? Optional.empty() : Optional.of(a.get(a.size() - 1));
  }

  /** Waits for Attributes matching {@code p}; returns them with their arrival time. */
  Received awaitAttributes(Duration within, Predicate<Attributes> p) {
    return Awaitility.await().atMost(within).pollInterval(Duration.ofMillis(10))
        .until(() -> received.stream()
                .filter(r -> r.frame() instanceof Attributes a && p.test(a)).findFirst(),
            Optional::isPresent).get();
  }

  @Override
  public void close() {
    fallSilent();
    channel.close().syncUninterruptibly();
  }
}
