package io.pgconmgr.watchdog;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.pgconmgr.protocol.heartbeat.Attributes;
import io.pgconmgr.protocol.heartbeat.HeartbeatCodec;
import io.pgconmgr.protocol.netty.NettyTransport;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import javax.net.ssl.SSLException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The TCP server conmgrs connect to: one {@link HeartbeatSessionHandler} per connection. */
final class HeartbeatServer implements AutoCloseable {
  private final EventLoopGroup group;
  private final Class<? extends ServerChannel> channelClass;
  private final SessionRegistry registry;
  private final WatchdogMetrics metrics;
  private final Supplier<Attributes> attributes;
  private final SslContext sslContext;
  private Channel serverChannel;

  /** {@code sslContext}: a server context requiring client certificates, or null for plain TCP. */
  HeartbeatServer(SessionRegistry registry, WatchdogMetrics metrics,
      Supplier<Attributes> attributes, SslContext sslContext) {
    this.registry = registry;
    this.metrics = metrics;
    this.attributes = attributes;
    this.sslContext = sslContext;
    // Heartbeats are tiny: two threads carry thousands of sessions. Daemon threads, unlike
    // NettyTransport's default: an embedding test JVM must not wait for them.
    this.group = NettyTransport.newEventLoopGroup(2, new DefaultThreadFactory("watchdog-io", true));
    this.channelClass = NettyTransport.serverSocketChannelType(group);
  }

  /** Binds and returns the bound address (the port is known even when 0 was asked). */
  InetSocketAddress bind(InetSocketAddress address) throws InterruptedException {
    ServerBootstrap b = new ServerBootstrap()
        .group(group)
        .channel(channelClass)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            HeartbeatCodec.addTo(ch.pipeline());
            if (sslContext != null) {
              ch.pipeline().addFirst(HeartbeatCodec.TLS_NAME, sslContext.newHandler(ch.alloc()));
            }
            ch.pipeline().addLast("session",
                new HeartbeatSessionHandler(registry, metrics, attributes));
          }
        });
    serverChannel = b.bind(address).sync().channel();
    return (InetSocketAddress) serverChannel.localAddress();
  }

  /** Mutual TLS from PEM files: the client must present a certificate signed by the CA. */
  static SslContext serverContext(WatchdogSettings s) throws IOException {
    try {
      return SslContextBuilder.forServer(s.sslCertFile().toFile(), s.sslKeyFile().toFile())
          .trustManager(s.sslCaFile().toFile())
          .clientAuth(ClientAuth.REQUIRE)
          .build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IOException("cannot set up TLS from " + s.sslCertFile() + ", " + s.sslKeyFile()
          + " and " + s.sslCaFile() + ": " + e.getMessage(), e);
    }
  }

  /** Stops accepting connections; established ones keep running until {@link #close()}. */
  void stopAccepting() {
    if (serverChannel != null) {
      serverChannel.close().awaitUninterruptibly();
    }
  }

  @Override
  public void close() {
    stopAccepting();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
