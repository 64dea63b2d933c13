package io.pgconmgr.conmgr.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FutureListener;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgconmgr.conmgr.ops.ConmgrMetrics.Refusal;
import io.pgconmgr.conmgr.ops.PgLevel;
import io.pgconmgr.conmgr.routing.ClientRegistry;
import io.pgconmgr.conmgr.routing.InstanceState;
import io.pgconmgr.conmgr.routing.InstanceTable;
import io.pgconmgr.protocol.conf.TargetSessionAttrs;
import io.pgconmgr.protocol.netty.RecyclingAllocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection on a listener: reads the first packet, routes it, then either proxies the
 * byte stream to the chosen instance (without an object per packet; with backpressure: a side reads
 * again only while the other side's outbound buffer is below its high-water mark; or, with a kernel
 * relay agent, by handing both sockets to the kernel and waiting for a hang-up) or, for an aware
 * client, answers the instance's address and keeps the
 * socket as failure-notice channel. Every method runs on the client channel's event loop, except
 * {@link #linkLost}, which hops onto it.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter implements ClientRegistry.Client {

  private static final Logger log = LoggerFactory.getLogger(FrontendHandler.class);

  /** PROXYING: conmgr relays the bytes; KERNEL: the kernel does (see {@link KernelRelay}). */
  private enum State { FIRST_PACKET, ROUTING, CONNECTING, PROXYING, KERNEL, AWARE, REFUSED_ENCRYPTION, CLOSED }

  /**
   * How long the instance side of a connection the kernel relays stays open after the client hung up,
   * and the other way round: the kernel sends what it redirected from a work queue, so the last bytes
   * before a hang-up (a Terminate message, a server's FATAL error) may still be on their way, and
   * closing the other socket at once would discard them (it did in 3 of 300 tries, KernelRelayTest).
   * Normally the other side hangs up itself well before: a client on the server's FATAL message, a
   * server on the client's Terminate.
   */
  static final long KERNEL_DRAIN_MILLIS = 2000;

  private final ProxyContext context;
  private final TargetSessionAttrs listenerTarget;
  /** Prepared once per server (options, channel type); cloned onto the client's event loop per connect. */
  private final Bootstrap backends;

  private ChannelHandlerContext ctx;
  private State state = State.FIRST_PACKET;
  private boolean counted;
  private FirstPacket first;
  private TargetSessionAttrs target;
  private boolean aware;
  private long routeDeadlineNanos;
  private final Set<Integer> refused = new HashSet<>();
  private String lastConnectError;
  private ScheduledFuture<?> timer;
  private InstanceTable.ChangeListener tableListener;
  private ClientRegistry.Lease lease;
  private Channel backend;
  private BackendHandler backendHandler;

  FrontendHandler(ProxyContext context, TargetSessionAttrs listenerTarget, Bootstrap backends) {
    this.context = context;
    this.listenerTarget = listenerTarget;
    this.backends = backends;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    int max = context.maxConnections();
    int open = context.openConnections().incrementAndGet();
    if (max > 0 && open > max) {
      refuse(Refusal.MAX_CONNECTIONS, "max_connections (" + max + ") reached");
      return;
    }
    if (open > context.openFiles().connections()) {
      // Refused here rather than left to EMFILE, where accept() fails and clients wait unserved in the
      // kernel's accept queue.
      refuse(Refusal.OPEN_FILES, "open-files limit reached (ulimit -n " + context.openFiles().limit() + " holds "
          + context.openFiles().connections() + " client connections)");
      return;
    }
    counted = true;
    context.metrics().clients(listenerTarget, 1);
    timer = ctx.executor().schedule(() -> {
      log.debug("client {} sent no startup packet within {}", ctx.channel().remoteAddress(), context.startupTimeout());
      ctx.close();
    }, context.startupTimeout().toMillis(), TimeUnit.MILLISECONDS);
    ctx.read();
  }

  private void refuse(Refusal reason, String why) {
    context.openConnections().decrementAndGet();
    context.refusals().refused(ctx.channel().remoteAddress(), why);
    context.metrics().refused(reason);
    state = State.CLOSED;
    ctx.close();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof FirstPacket packet) {
      onFirstPacket(packet);
      return;
    }
    switch (state) {
      // A void promise: no object per packet; a failed write reaches the backend's exceptionCaught.
      // KERNEL: what a read on a hang-up finds, left in the socket before the kernel took over.
      case PROXYING, KERNEL -> backend.write(msg, backend.voidPromise());
      case AWARE -> {
        // Only Terminate ('X') is expected; anything else is ignored (the channel is one-way).
        ByteBuf buf = (ByteBuf) msg;
        boolean terminate = buf.isReadable() && buf.getByte(buf.readerIndex()) == 'X';
        ReferenceCountUtil.release(msg);
        if (terminate) {
          ctx.close();
        } else {
          ctx.read();
        }
      }
      default -> ReferenceCountUtil.release(msg);
    }
  }

  /**
   * The end of a batch of reads: flush it to the instance, and read on while the instance's outbound
   * buffer stays below its high-water mark (backpressure: otherwise the instance's becoming writable
   * again, {@link BackendHandler#channelWritabilityChanged}, resumes reading).
   */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (state == State.PROXYING) {
      backend.flush();
      if (backend.isWritable()) {
        ctx.read();
      }
    } else if (state == State.KERNEL) {
      backend.flush();
    }
  }

  /** The instance drained what this side had queued for the client: read from the instance again. */
  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (state == State.PROXYING && ctx.channel().isWritable()) {
      backend.read();
    }
  }

  private void onFirstPacket(FirstPacket packet) {
    cancelTimer();
    if (state == State.REFUSED_ENCRYPTION) {
      // No instance was found for the first packet; we answered 'N' to read the startup packet
      // and now answer it with the reason.
      if (packet.kind() == FirstPacket.Kind.SSL_REQUEST || packet.kind() == FirstPacket.Kind.GSSENC_REQUEST) {
        packet.release();
        refuseEncryptionAndReadAgain();
      } else {
        boolean startup = packet.kind() == FirstPacket.Kind.STARTUP;
        packet.release();
        if (startup) {
          sendNoRouteError();
        } else {
          ctx.close();
        }
      }
      return;
    }
    first = packet;
    target = listenerTarget;
    if (packet.kind() == FirstPacket.Kind.CANCEL_REQUEST) {
      forwardCancel();
      return;
    }
    if (packet.isAwareClient()) {
      aware = true;
      String wanted = packet.parameters().get(FirstPacket.AWARE_OPTION).trim();
      if (!wanted.isEmpty()) {
        Optional<TargetSessionAttrs> parsed = TargetSessionAttrs.parse(wanted);
        if (parsed.isEmpty()) {
          context.metrics().routingFailed(listenerTarget, "invalid_target");
          writeAndClose(PgWire.errorResponse(ctx.alloc(), PgWire.INVALID_PARAMETER_VALUE,
              "invalid value for parameter \"" + FirstPacket.AWARE_OPTION + "\": \"" + wanted + "\"",
              "Accepted values: " + TargetSessionAttrs.acceptedNames() + ", or empty for the listener's target."));
          return;
        }
        target = parsed.get();
      }
    }
    state = State.ROUTING;
    routeDeadlineNanos = System.nanoTime() + context.routeWait().toNanos();
    route();
  }

  /** Tries to bind an instance now; otherwise waits for a table change or the deadline. */
  private void route() {
    if (state != State.ROUTING) {
      return;
    }
    Optional<ClientRegistry.Lease> routed = context.router().route(target, refused, this);
    if (routed.isPresent()) {
      stopWaiting();
      lease = routed.get();
      if (aware) {
        answerAware(lease.instance());
      } else {
        connect(lease.instance());
      }
      return;
    }
    long leftNanos = routeDeadlineNanos - System.nanoTime();
    if (leftNanos <= 0) {
      stopWaiting();
      noRoute();
      return;
    }
    if (tableListener == null) {
      // A failover in progress: retry on every table change until the deadline.
      tableListener = (before, after) -> ctx.executor().execute(this::route);
      context.router().table().addListener(tableListener);
      timer = ctx.executor().schedule(this::route, leftNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void stopWaiting() {
    if (tableListener != null) {
      context.router().table().removeListener(tableListener);
      tableListener = null;
    }
    cancelTimer();
  }

  private void noRoute() {
    switch (first.kind()) {
      case STARTUP -> {
        first.release();
        first = null;
        sendNoRouteError();
      }
      case SSL_REQUEST, GSSENC_REQUEST -> {
        // The client waits for one byte. 'N' lets a client with sslmode=prefer/allow/disable go on
        // in clear text and receive our ErrorResponse with the reason; sslmode=require stops here.
        first.release();
        first = null;
        refuseEncryptionAndReadAgain();
      }
      default -> {
        log.info(PgLevel.LOG, "no instance for target_session_attrs={}: closing client {} (its first packet is not a "
            + "startup packet, so no error message can be sent)", target.confName(), ctx.channel().remoteAddress());
        context.metrics().routingFailed(target, "no_instance");
        ctx.close();
      }
    }
  }

  private void refuseEncryptionAndReadAgain() {
    state = State.REFUSED_ENCRYPTION;
    ctx.pipeline().addBefore(ctx.name(), "startup", new StartupPacketDecoder());
    ctx.writeAndFlush(PgWire.refuseEncryption(ctx.alloc())).addListener((ChannelFutureListener) f -> {
      if (f.isSuccess()) {
        timer = ctx.executor().schedule(() -> ctx.close(), context.startupTimeout().toMillis(), TimeUnit.MILLISECONDS);
        ctx.read();
      } else {
        ctx.close();
      }
    });
  }

  private void sendNoRouteError() {
    String reason = context.router().explain(target);
    if (lastConnectError != null) {
      reason = lastConnectError + "; " + reason;
    }
    log.warn("client {}: no instance matches target_session_attrs={} after waiting {} ms: {}",
        ctx.channel().remoteAddress(), target.confName(), context.routeWait().toMillis(), reason);
    context.metrics().routingFailed(target, lastConnectError != null ? "connect_failed" : "no_instance");
    writeAndClose(PgWire.errorResponse(ctx.alloc(), PgWire.CANNOT_CONNECT_NOW,
        "conmgr: no instance matches target_session_attrs=" + target.confName(),
        "Waited " + context.routeWait().toMillis() + " ms. " + reason));
  }

  private void connect(InstanceState instance) {
    state = State.CONNECTING;
    Channel client = ctx.channel();
    backendHandler = new BackendHandler(client);
    backends.clone(client.eventLoop()).handler(backendHandler)
        .connect(address(instance)).addListener((ChannelFutureListener) f -> onConnected(f, instance));
  }

  /** Resolved here when it is an address literal (the usual case), sparing Netty's resolver a lookup per connect. */
  private static InetSocketAddress address(InstanceState instance) {
    String host = instance.connectHost();
    int port = instance.instance().port();
    InetSocketAddress address = new InetSocketAddress(host, port);
    // Unresolvable: let the connect fail through Netty's resolver, whose error names the cause.
    return address.isUnresolved() ? InetSocketAddress.createUnresolved(host, port) : address;
  }

  private void onConnected(ChannelFuture f, InstanceState instance) {
    if (state == State.CLOSED) {
      f.channel().close();
      return;
    }
    if (!f.isSuccess()) {
      lastConnectError = "instance " + instance.label() + " refused the connection: " + f.cause().getMessage();
      log.warn("client {}: {}", ctx.channel().remoteAddress(), lastConnectError);
      context.metrics().error("backend_connect");
      if (lease != null) {
        lease.release();
        lease = null;
      }
      refused.add(instance.number());
      state = State.ROUTING;
      route();
      return;
    }
    backend = f.channel();
    context.metrics().routed(target, instance.number(), "proxy");
    log.debug("client {} -> instance {} ({}, first packet {})", ctx.channel().remoteAddress(), instance.label(),
        target.confName(), first.kind());
    KernelRelay kernel = context.kernelRelay();
    if (kernel == null || first.kind() == FirstPacket.Kind.OTHER) {
      startRelay(false);
      return;
    }
    // The kernel takes over before the first packet goes out: the instance sends nothing before it has
    // that packet, and a PostgreSQL client sends nothing more before it has the answer, so no byte can
    // be left in a socket's receive queue, which the kernel does not relay. A first packet that is not
    // PostgreSQL's (OTHER) gives no such promise and stays with conmgr.
    backendHandler.handingOver = true;
    kernel.handOver(ctx.channel(), backend).addListener((FutureListener<KernelRelay.Outcome>) h -> {
      backendHandler.handingOver = false;
      if (state == State.CLOSED) {
        return;
      }
      if (h.isSuccess()) {
        startRelay(h.getNow() == KernelRelay.Outcome.KERNEL);
      } else {
        // A stuck agent may still hold the two descriptors, unread: they keep both sockets open, so a
        // plain close would send no FIN and the client would wait for it. A shutdown ends them anyway.
        ((DuplexChannel) backend).shutdown();
        ((DuplexChannel) ctx.channel()).shutdown();
        ctx.close();
      }
    });
  }

  /** Forwards the first packet; then conmgr relays the rest, or the kernel does. */
  private void startRelay(boolean inKernel) {
    state = inKernel ? State.KERNEL : State.PROXYING;
    backendHandler.kernel = inKernel;
    if (!inKernel) {
      // Recycled relay buffers from now on (the instance side has them from the start): before, a client
      // that sent part of its startup packet and went quiet would hold a 16 KiB buffer for up to 60 s.
      ctx.channel().config().setAllocator(RecyclingAllocator.INSTANCE);
    }
    FirstPacket packet = first;
    first = null;
    backend.writeAndFlush(packet.raw()).addListener((ChannelFutureListener) w -> {
      if (!w.isSuccess()) {
        w.channel().close();
        ctx.close();
      } else if (!inKernel) {
        ctx.read();
        backend.read();
      }
    });
  }

  private void answerAware(InstanceState instance) {
    state = State.AWARE;
    first.release();
    first = null;
    context.metrics().routed(target, instance.number(), "aware");
    log.debug("aware client {} -> instance {} ({})", ctx.channel().remoteAddress(), instance.label(), target.confName());
    ctx.writeAndFlush(PgWire.instanceAddress(ctx.alloc(), instance.connectHost(), instance.instance().port(),
        instance.number(), instance.role())).addListener((ChannelFutureListener) f -> {
          if (f.isSuccess()) {
            ctx.read();
          } else {
            ctx.close();
          }
        });
  }

  /** A cancel key belongs to one backend on one instance; sending it to each usable one is harmless. */
  private void forwardCancel() {
    FirstPacket packet = first;
    first = null;
    for (InstanceState s : context.router().table().snapshot()) {
      if (!s.usable()) {
        continue;
      }
      ByteBuf copy = packet.raw().retainedDuplicate();
      new Bootstrap().group(ctx.channel().eventLoop()).channel(ctx.channel().getClass())
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) context.connectTimeout().toMillis())
          .handler(new ChannelInboundHandlerAdapter())
          .connect(address(s))
          .addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
              f.channel().writeAndFlush(copy).addListener(ChannelFutureListener.CLOSE);
            } else {
              copy.release();
            }
          });
    }
    packet.release();
    ctx.close();
  }

  @Override
  public void linkLost(InstanceState instance, String reason) {
    ctx.executor().execute(() -> {
      if (lease == null || lease.instance().number() != instance.number()) {
        // Meant for a lease this client already gave up (its connect there failed and it was
        // routed elsewhere): acting on it would fail a healthy client and leak its new lease.
        return;
      }
      lease = null; // the registry already dropped it
      if (state == State.AWARE) {
        writeAndClose(PgWire.failureNotice(ctx.alloc(), instance.number(), reason));
      } else {
        state = State.CLOSED; // a connect still in flight must not route this client again
        ctx.close();
      }
    });
  }

  private void writeAndClose(ByteBuf message) {
    state = State.CLOSED;
    ctx.writeAndFlush(message).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    boolean inKernel = state == State.KERNEL;
    state = State.CLOSED;
    stopWaiting();
    if (first != null) {
      first.release();
      first = null;
    }
    if (lease != null) {
      lease.release();
      lease = null;
    }
    if (backend != null && inKernel) {
      closeAfterKernelDrain(backend);
    } else if (backend != null) {
      if (backendHandler.handingOver) {
        // The agent may hold the instance socket's descriptor: only a shutdown ends it for PostgreSQL now.
        ((DuplexChannel) backend).shutdown();
      }
      closeOnFlush(backend);
    }
    if (counted) {
      counted = false;
      context.openConnections().decrementAndGet();
      context.metrics().clients(listenerTarget, -1);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      log.debug("client {}: {}", ctx.channel().remoteAddress(), cause.toString());
    } else {
      // Not the network: a bug would otherwise close clients silently, as "server closed the connection".
      log.warn("client {}: closing after unexpected {}", ctx.channel().remoteAddress(), cause.toString(), cause);
      context.metrics().error("client_exception");
    }
    ctx.close();
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  /** See {@link #KERNEL_DRAIN_MILLIS}. */
  static void closeAfterKernelDrain(Channel ch) {
    ch.eventLoop().schedule(() -> ch.close(), KERNEL_DRAIN_MILLIS, TimeUnit.MILLISECONDS);
  }

  static void closeOnFlush(Channel ch) {
    if (ch.isActive()) {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
