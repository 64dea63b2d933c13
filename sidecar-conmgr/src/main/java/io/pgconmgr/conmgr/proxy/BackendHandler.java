package io.pgconmgr.conmgr.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The instance side of a proxied connection: relays to the client. Reads again once a batch is
 * flushed while the client's outbound buffer is below its high-water mark; otherwise when the
 * client becomes writable again ({@link FrontendHandler#channelWritabilityChanged}).
 */
final class BackendHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(BackendHandler.class);

  private final Channel client;
  /**
   * Set, before the first packet goes out, when the kernel relays this connection: conmgr then never
   * reads from the instance and only forwards what a read on its hang-up finds.
   */
  boolean kernel;
  /**
   * Set while the kernel relay agent holds this connection's descriptors: a stuck agent keeps the
   * sockets open, so a side that hangs up meanwhile must shut the other one down, not only close it.
   */
  boolean handingOver;

  BackendHandler(Channel client) {
    this.client = client;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    // A void promise: no object per packet; a failed write reaches the client's exceptionCaught.
    client.write(msg, client.voidPromise());
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    client.flush();
    if (!kernel && client.isWritable()) {
      ctx.read();
    }
  }

  /**
   * The client drained what this side had queued for it: read from the client again (conmgr's relay
   * only: the client's writability changes only for what conmgr writes, and before the frontend relays
   * it writes nothing to the client).
   */
  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (!kernel && ctx.channel().isWritable()) {
      client.read();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (handingOver) {
      ((DuplexChannel) client).shutdown();
    }
    if (kernel) {
      FrontendHandler.closeAfterKernelDrain(client);
    } else {
      FrontendHandler.closeOnFlush(client);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!(cause instanceof IOException)) {
      log.warn("instance connection {} of client {}: closing after unexpected {}", ctx.channel().remoteAddress(),
          client.remoteAddress(), cause.toString(), cause);
    }
    ctx.close();
  }
}
