package io.pgconmgr.conmgr.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.pgconmgr.protocol.conf.Listener;
import io.pgconmgr.protocol.netty.NettyTransport;
import io.pgconmgr.protocol.netty.RecyclingAllocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The client listeners: one server socket per (listen address, listener port), each routing its
 * clients to the listener's target.
 */
public final class ProxyServer implements AutoCloseable {

  /**
   * What a side may hold queued for the other before reading from it stops (high) and resumes (low).
   * A stalled direction then holds at most this plus one read (up to 64 KiB) of direct memory. The
   * images' MaxDirectMemorySize=64m caps, for all clients together, the JDK's direct buffers (the
   * recycled relay buffers) and, separately, Netty's pool (its own counter, same limit). The kernel's
   * socket buffers, much larger, keep a bulk stream flowing meanwhile.
   */
  static final WriteBufferWaterMark RELAY_WATER_MARK = new WriteBufferWaterMark(16 * 1024, 32 * 1024);

  /**
   * Counts a queued buffer at its capacity, not its content: a recycled relay buffer holds 16 KiB
   * however few bytes a read put in it, and the water marks must bound memory, not bytes.
   */
  static final MessageSizeEstimator RELAY_SIZE = () -> msg -> msg instanceof ByteBuf buf ? buf.capacity() : 0;

  private final List<Channel> servers = new ArrayList<>();

  /**
   * Binds every listener on every address of {@code listenAddresses}; fails (and unbinds) if one cannot bind.
   * Accepting on the I/O threads themselves spares each new connection a hand-off between threads
   * (with one I/O thread, the default on up to seven processors, always).
   */
  public ProxyServer(EventLoopGroup io, String listenAddresses, List<Listener> listeners, ProxyContext context)
      throws IOException {
    Bootstrap backends = new Bootstrap()
        .group(io)
        .channelFactory(NettyTransport.socketChannelFactory(io))
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.ALLOCATOR, RecyclingAllocator.INSTANCE)
        .option(ChannelOption.MESSAGE_SIZE_ESTIMATOR, RELAY_SIZE)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, RELAY_WATER_MARK)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) context.connectTimeout().toMillis());
    for (String host : hosts(listenAddresses)) {
      for (Listener listener : listeners) {
        ServerBootstrap b = new ServerBootstrap()
            .group(io)
            .channel(NettyTransport.serverSocketChannelType(io))
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.AUTO_READ, false)
            .childOption(ChannelOption.MESSAGE_SIZE_ESTIMATOR, RELAY_SIZE)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, RELAY_WATER_MARK)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                ch.pipeline()
                    .addLast("startup", new StartupPacketDecoder())
                    .addLast("frontend", new FrontendHandler(context, listener.target(), backends));
              }
            });
        ChannelFuture bound = b.bind(host, listener.port()).awaitUninterruptibly();
        if (!bound.isSuccess()) {
          close();
          throw new IOException("could not listen on " + host + ":" + listener.port() + ": "
              + bound.cause().getMessage(), bound.cause());
        }
        servers.add(bound.channel());
      }
    }
  }

  /** Bound addresses, in listener order (for logs and tests that bind port 0). */
  public List<InetSocketAddress> addresses() {
    return servers.stream().map(c -> (InetSocketAddress) c.localAddress()).toList();
  }

  static List<String> hosts(String listenAddresses) {
    List<String> hosts = new ArrayList<>();
    for (String part : listenAddresses.split(",")) {
      String h = part.trim();
      if (!h.isEmpty()) {
        hosts.add(h.equals("*") ? "0.0.0.0" : h);
      }
    }
    return hosts;
  }

  @Override
  public void close() {
    for (Channel c : servers) {
      c.close().syncUninterruptibly();
    }
    servers.clear();
  }
}
