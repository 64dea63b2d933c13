package io.pgconmgr.protocol.netty;

import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.ThreadFactory;

/**
 * Picks the Netty transport: native epoll where the library loads (Linux), NIO elsewhere. The
 * channel classes follow the group, so a caller never mixes an epoll group with NIO channels.
 */
public final class NettyTransport {
  private NettyTransport() {
  }

  /** True when the native epoll transport can be used on this machine. */
  public static boolean epollAvailable() {
    return Epoll.isAvailable();
  }

  /**
   * A new event loop group, epoll when available, else NIO.
   *
   * @param threads          number of event loops; 0 means Netty's default (2 x cores)
   * @param threadNamePrefix prefix of the thread names, e.g. "heartbeat"
   */
  public static EventLoopGroup newEventLoopGroup(int threads, String threadNamePrefix) {
    return newEventLoopGroup(threads, new DefaultThreadFactory(threadNamePrefix));
  }

  /** A new event loop group, epoll when available, else NIO, with threads from {@code threadFactory}. */
  public static EventLoopGroup newEventLoopGroup(int threads, ThreadFactory threadFactory) {
    IoHandlerFactory io = epollAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    // A fixed group never moves a loop to another thread: wrapped, the factory says so, which spares
    // every turn of a loop the three clock reads that measure its active time for such moves.
    return new MultiThreadIoEventLoopGroup(threads, threadFactory, (IoHandlerFactory) io::newHandler);
  }

  /** The TCP client channel class that fits {@code group}. */
  public static Class<? extends SocketChannel> socketChannelType(EventLoopGroup group) {
    return isEpoll(group) ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  /**
   * Makes the TCP client channels that fit {@code group} by a plain constructor call, where
   * {@code Bootstrap.channel(Class)} would call the constructor reflectively for every connection.
   */
  public static ChannelFactory<SocketChannel> socketChannelFactory(EventLoopGroup group) {
    return isEpoll(group) ? EpollSocketChannel::new : NioSocketChannel::new;
  }

  /** The TCP server channel class that fits {@code group}. */
  public static Class<? extends ServerSocketChannel> serverSocketChannelType(EventLoopGroup group) {
    return isEpoll(group) ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  /** The UDP channel class that fits {@code group} (DNS queries). */
  public static Class<? extends DatagramChannel> datagramChannelType(EventLoopGroup group) {
    return isEpoll(group) ? EpollDatagramChannel.class : NioDatagramChannel.class;
  }

  /** Whether {@code group} runs Netty's epoll transport (unix sockets, file-descriptor passing). */
  public static boolean isEpoll(EventLoopGroup group) {
    return group instanceof IoEventLoopGroup io && io.isIoType(EpollIoHandler.class);
  }
}
