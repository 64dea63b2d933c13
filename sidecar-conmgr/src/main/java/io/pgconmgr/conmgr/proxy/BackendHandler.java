package io.pgconmgr.conmgr.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The instance side of a proxied connection: relays to the client, reading again only after the write completed. */
final class BackendHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(BackendHandler.class);

  private final Channel client;
  /** One listener for every relayed packet: a lambda per packet would be garbage on the hot path. */
  private ChannelFutureListener afterWrite;

  BackendHandler(Channel client) {
    this.client = client;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    afterWrite = f -> {
      if (f.isSuccess()) {
        ctx.read();
      } else {
        f.channel().close();
        ctx.close();
      }
    };
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    client.writeAndFlush(msg).addListener(afterWrite);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    FrontendHandler.closeOnFlush(client);
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
