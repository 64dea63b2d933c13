package io.pgconmgr.protocol.heartbeat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgconmgr.protocol.netty.NettyTransport;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A minimal watchdog on real loopback sockets, speaking the heartbeat codec, for client tests. */
final class TestWatchdog implements AutoCloseable {
  /** A frame the watchdog received, with the connection number it came on and when. */
  record Received(int connection, Frame frame, long nanos) {
  }

  final List<Received> received = new CopyOnWriteArrayList<>();
  final AtomicInteger connections = new AtomicInteger();
  volatile boolean answerHello = true;
  volatile boolean sendHeartbeats = true;
  /** Added to the peer's interval between two heartbeats: a watchdog that runs a little late. */
  volatile int heartbeatLateMs;
  volatile Attributes attributes;

  private final ChannelGroup peers = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final Channel serverChannel;

  TestWatchdog(EventLoopGroup group, String bindAddress, int port, Attributes attributes)
      throws InterruptedException {
    this(group, bindAddress, port, attributes, null);
  }

  /** With {@code tls} not null, the watchdog accepts TLS connections only. */
  TestWatchdog(EventLoopGroup group, String bindAddress, int port, Attributes attributes,
      SslContext tls) throws InterruptedException {
    this.attributes = attributes;
    this.serverChannel = new ServerBootstrap()
        .group(group)
        .channel(NettyTransport.serverSocketChannelType(group))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            peers.add(ch);
            if (tls != null) {
              ch.pipeline().addLast(HeartbeatCodec.TLS_NAME, tls.newHandler(ch.alloc()));
            }
            HeartbeatCodec.addTo(ch.pipeline())
                .addLast("test-watchdog", new Session(connections.incrementAndGet()));
          }
        })
        .bind(bindAddress, port).sync().channel();
  }

  int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** Sets new attributes and pushes them to every connected peer. */
  void push(Attributes newAttributes) {
    attributes = newAttributes;
    peers.writeAndFlush(newAttributes);
  }

  /** Sends a Goodbye to every peer and closes their connections; keeps listening. */
  void sayGoodbye(String reason) {
    for (Channel peer : peers) {
      peer.writeAndFlush(new Goodbye(reason)).addListener(f -> peer.close());
    }
  }

  <T extends Frame> List<T> framesOf(Class<T> type) {
    return received.stream().map(Received::frame).filter(type::isInstance).map(type::cast)
        .toList();
  }

  @Override
  public void close() {
    serverChannel.close().syncUninterruptibly();
    peers.close().syncUninterruptibly();
  }

  /** One accepted connection: answers Hello, then heartbeats at the peer's interval. */
  private final class Session extends SimpleChannelInboundHandler<Frame> {
    private final int connection;
    private ScheduledFuture<?> heartbeats;
    private long sequence;

    Session(int connection) {
      this.connection = connection;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
      received.add(new Received(connection, frame, System.nanoTime()));
      if (frame instanceof Hello hello && answerHello) {
        ctx.writeAndFlush(attributes);
        heartbeats = ctx.executor().scheduleAtFixedRate(() -> {
          if (sendHeartbeats) {
            ctx.writeAndFlush(new Heartbeat(++sequence, System.currentTimeMillis()));
          }
        }, hello.heartbeatIntervalMs() + heartbeatLateMs, hello.heartbeatIntervalMs() + heartbeatLateMs,
            TimeUnit.MILLISECONDS);
      } else if (frame instanceof Goodbye) {
        ctx.close();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // a client closing abruptly resets the connection; nothing to report
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (heartbeats != null) {
        heartbeats.cancel(false);
      }
    }
  }
}
