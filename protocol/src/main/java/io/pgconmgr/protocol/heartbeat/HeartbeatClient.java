package io.pgconmgr.protocol.heartbeat;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.resolver.HostsFileEntriesResolver;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.util.AttributeKey;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgconmgr.protocol.netty.NettyTransport;
import io.pgconmgr.protocol.netty.RecyclingAllocator;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one heartbeat link to one watchdog: connects, says Hello, sends heartbeats, watches for
 * silence and reconnects, reporting link changes and attribute pushes to a
 * {@link HeartbeatListener}. Used by the conmgr sidecar (one per instance) and by the operator.
 *
 * <p>All work runs on one event loop of the given group, so the connection state needs no locks;
 * only the figures behind {@link #status()} are shared with other threads.
 */
public final class HeartbeatClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HeartbeatClient.class);
  private static final AttributeKey<String> CLOSE_REASON =
      AttributeKey.valueOf(HeartbeatClient.class, "closeReason");
  private static final String HANDLER_NAME = "heartbeat-client";
  private static final long CLOSE_WAIT_MS = 5_000;

  private final EventLoop loop;
  private final String host;
  private final int port;
  private final InetAddress literalAddress;
  private final HeartbeatTiming timing;
  private final String peerName;
  private final HeartbeatListener listener;
  private final HostsFileEntriesResolver hostsFile;
  private final SslContext sslContext;
  private final Bootstrap bootstrap;

  // Confined to the event loop.
  private DnsNameResolver resolver;
  private boolean started;
  private boolean closing;
  private int attempt; // a callback of an older attempt sees a different number and does nothing
  private Channel channel;
  private ScheduledFuture<?> attemptTimer;
  private ScheduledFuture<?> reconnectTimer;
  private ScheduledFuture<?> heartbeatTimer;
  private ScheduledFuture<?> livenessTimer;
  private long helloSentNanos;
  private long lastReceivedNanos;
  private long sequence;
  private String lastLoggedFailure;

  // Shared with status(); guarded by lock.
  private final Object lock = new Object();
  private boolean linkUp;
  private Attributes attributes;
  private InetSocketAddress remoteAddress;
  private String lastError;
  private long connectAttempts;
  private long linkDowns;
  private long heartbeatsSent;
  private long heartbeatsReceived;
  private long handshakeMillis = -1;
  private boolean connected;
  private long lastFrameNanos;
  private boolean frameSeen;

  private HeartbeatClient(Builder b) {
    this.loop = b.group.next();
    this.host = b.host;
    this.port = b.port;
    this.literalAddress = NetUtil.createInetAddressFromIpAddressString(b.host);
    this.timing = b.timing;
    this.peerName = b.peerName;
    this.listener = b.listener;
    this.hostsFile = b.hostsFile;
    this.sslContext = b.sslContext;
    this.bootstrap = new Bootstrap()
        .group(loop)
        .channelFactory(NettyTransport.socketChannelFactory(loop))
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timing.connectTimeoutMs())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.ALLOCATOR, RecyclingAllocator.INSTANCE)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (sslContext != null) {
              // The name given, not the resolved IP: SNI and host name verification use it.
              ch.pipeline().addLast(HeartbeatCodec.TLS_NAME,
                  sslContext.newHandler(ch.alloc(), host, port));
            }
            HeartbeatCodec.addTo(ch.pipeline()).addLast(HANDLER_NAME, new ClientHandler());
          }
        });
  }

  /**
   * Starts a builder.
   *
   * @param group event loop group; the client keeps to one of its loops
   * @param host  host name (resolved again at every connect) or literal IPv4/IPv6 address
   * @param port  watchdog port
   */
  public static Builder builder(EventLoopGroup group, String host, int port) {
    return new Builder(group, host, port);
  }

  /** Starts connecting; returns at once. Calling it again does nothing. */
  public HeartbeatClient start() {
    loop.execute(() -> {
      if (started || closing) {
        return;
      }
      started = true;
      if (literalAddress == null) {
        DnsNameResolverBuilder dns = new DnsNameResolverBuilder(loop)
            .datagramChannelType(NettyTransport.datagramChannelType(loop))
            .socketChannelType(NettyTransport.socketChannelType(loop))
            .resolveCache(NoopDnsCache.INSTANCE) // every attempt asks again: pods change IPs
            .cnameCache(NoopDnsCnameCache.INSTANCE);
        if (hostsFile != null) {
          dns.hostsFileEntriesResolver(hostsFile);
        }
        resolver = dns.build();
      }
      connect();
    });
    return this;
  }

  /** A snapshot of the link state and figures; safe from any thread. */
  public HeartbeatStatus status() {
    synchronized (lock) {
      long age = connected && frameSeen
          ? TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastFrameNanos) : -1;
      return new HeartbeatStatus(host, port, linkUp, attributes, remoteAddress, lastError,
          connectAttempts, linkDowns, heartbeatsSent, heartbeatsReceived, handshakeMillis, age);
    }
  }

  /** The host name or address and port this client connects to, e.g. "pg-0.pg:27545". */
  public String target() {
    return NetUtil.toSocketAddressString(host, port);
  }

  /**
   * Sends a Goodbye with {@code reason} if connected, closes the connection and stops
   * reconnecting. The listener gets {@code linkDown} if the link was up. The future completes when
   * the connection is closed.
   */
  public Future<Void> closeAsync(String reason) {
    Promise<Void> done = loop.newPromise();
    try {
      loop.execute(() -> shutdown(reason, done));
    } catch (RejectedExecutionException e) { // the group is shutting down: nothing left to close
      done.trySuccess(null);
    }
    return done;
  }

  /** {@link #closeAsync} with reason "client stopping", waiting up to 5 s off the event loop. */
  @Override
  public void close() {
    Future<Void> done = closeAsync("client stopping");
    if (!loop.inEventLoop()) {
      done.awaitUninterruptibly(CLOSE_WAIT_MS);
    }
  }

  // ---- connection attempts -------------------------------------------------------------------

  private void connect() {
    reconnectTimer = null;
    if (closing) {
      return;
    }
    int thisAttempt = ++attempt;
    synchronized (lock) {
      connectAttempts++;
    }
    attemptTimer = loop.schedule(() -> attemptTimedOut(thisAttempt), timing.connectTimeoutMs(),
        TimeUnit.MILLISECONDS);
    if (literalAddress != null) {
      connectTo(thisAttempt, literalAddress);
      return;
    }
    resolver.resolve(host).addListener((Future<InetAddress> resolved) -> {
      if (thisAttempt != attempt || closing) {
        return;
      }
      if (resolved.isSuccess()) {
        connectTo(thisAttempt, resolved.getNow());
      } else {
        attemptFailed("cannot resolve " + host + ": " + describe(resolved.cause()));
      }
    });
  }

  private void connectTo(int thisAttempt, InetAddress address) {
    InetSocketAddress remote = new InetSocketAddress(address, port);
    synchronized (lock) {
      remoteAddress = remote;
    }
    ChannelFuture connecting = bootstrap.connect(remote);
    Channel ch = connecting.channel();
    channel = ch;
    ch.closeFuture().addListener(f -> channelClosed(ch, connecting, remote));
    connecting.addListener((ChannelFuture f) -> {
      if (!f.isSuccess()) {
        // The transport may close the channel before or after this listener runs; either way
        // channelClosed reads the cause from the connect future.
        ch.close();
        return;
      }
      if (thisAttempt != attempt || closing) {
        return;
      }
      synchronized (lock) {
        connected = true;
        frameSeen = false;
      }
      helloSentNanos = System.nanoTime();
      send(ch, new Hello(HeartbeatProtocol.VERSION, (int) timing.intervalMs(),
          (int) timing.timeoutMs(), peerName));
    });
  }

  private void attemptTimedOut(int thisAttempt) {
    attemptTimer = null;
    if (thisAttempt != attempt || isLinkUp()) {
      return;
    }
    String reason = "no answer to Hello within the connect timeout of " + timing.connectTimeoutMs()
        + " ms";
    if (channel != null) {
      closeWith(channel, channel.isActive() ? reason
          : "TCP connect to " + format(remoteAddress()) + " not done within the connect timeout of "
              + timing.connectTimeoutMs() + " ms");
    } else {
      attempt++; // ignore the late resolution
      attemptFailed("cannot resolve " + host + " within the connect timeout of "
          + timing.connectTimeoutMs() + " ms");
    }
  }

  /** A failed attempt that has no channel (resolution); channel failures go via channelClosed. */
  private void attemptFailed(String reason) {
    cancel(attemptTimer);
    attemptTimer = null;
    synchronized (lock) {
      lastError = reason;
    }
    logFailure(reason);
    scheduleReconnect();
  }

  private void scheduleReconnect() {
    if (!closing) {
      reconnectTimer = loop.schedule(this::connect, timing.connectIntervalMs(),
          TimeUnit.MILLISECONDS);
    }
  }

  private void logFailure(String reason) {
    // Once per distinct reason at WARN: a watchdog that is down for an hour must not flood the log.
    if (reason.equals(lastLoggedFailure)) {
      LOG.debug("Heartbeat connection to {} failed again: {}", target(), reason);
    } else {
      lastLoggedFailure = reason;
      LOG.warn("Heartbeat connection to {} failed: {}; retrying every {} ms", target(), reason,
          timing.connectIntervalMs());
    }
  }

  // ---- an established connection ---------------------------------------------------------------

  private void frameReceived(Channel ch, Frame frame) {
    if (ch != channel) {
      return;
    }
    long now = System.nanoTime();
    lastReceivedNanos = now;
    boolean first;
    long previous;
    synchronized (lock) {
      first = !frameSeen;
      previous = lastFrameNanos;
      lastFrameNanos = now;
      frameSeen = true;
    }
    if (!first) {
      listener.frameGap(now - previous);
    }
    if (frame instanceof Attributes received) {
      attributesReceived(ch, received, now);
    } else if (frame instanceof Heartbeat) {
      synchronized (lock) {
        heartbeatsReceived++;
      }
    } else if (frame instanceof Goodbye goodbye) {
      closeWith(ch, "watchdog said goodbye: " + goodbye.reason());
    } else {
      closeWith(ch, "protocol violation: the watchdog sent " + frame);
    }
  }

  private void attributesReceived(Channel ch, Attributes received, long now) {
    Attributes previous;
    boolean wasUp;
    synchronized (lock) {
      previous = attributes;
      wasUp = linkUp;
      attributes = received;
      if (!wasUp) {
        linkUp = true;
        handshakeMillis = TimeUnit.NANOSECONDS.toMillis(now - helloSentNanos);
      }
    }
    if (wasUp) {
      if (!received.equals(previous)) {
        LOG.info("Watchdog {} pushed attributes {}", target(), received);
        listener.attributesChanged(received);
      }
      return;
    }
    cancel(attemptTimer);
    attemptTimer = null;
    lastLoggedFailure = null;
    sequence = 0;
    heartbeatTimer = loop.scheduleAtFixedRate(() -> sendHeartbeat(ch), timing.intervalMs(),
        timing.intervalMs(), TimeUnit.MILLISECONDS);
    livenessTimer = loop.schedule(() -> checkLiveness(ch), timing.timeoutMs(),
        TimeUnit.MILLISECONDS);
    LOG.info("Heartbeat link to {} ({}) up after {} ms: {}", target(), format(remoteAddress()),
        TimeUnit.NANOSECONDS.toMillis(now - helloSentNanos), received);
    listener.linkUp(received);
  }

  private void sendHeartbeat(Channel ch) {
    // A watchdog that reads nothing would otherwise make us queue a heartbeat every interval for
    // as long as it keeps sending its own.
    if (ch != channel || !ch.isWritable()) {
      return;
    }
    send(ch, new Heartbeat(++sequence, System.currentTimeMillis()));
    synchronized (lock) {
      heartbeatsSent++;
    }
  }

  private void checkLiveness(Channel ch) {
    if (ch != channel) {
      return;
    }
    long silentNanos = System.nanoTime() - lastReceivedNanos;
    long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timing.timeoutMs());
    if (silentNanos >= timeoutNanos) {
      closeWith(ch, "nothing received for " + TimeUnit.NANOSECONDS.toMillis(silentNanos)
          + " ms (heartbeat timeout " + timing.timeoutMs() + " ms)");
    } else {
      livenessTimer = loop.schedule(() -> checkLiveness(ch), timeoutNanos - silentNanos,
          TimeUnit.NANOSECONDS);
    }
  }

  private void send(Channel ch, Frame frame) {
    ch.writeAndFlush(frame).addListener(f -> {
      if (!f.isSuccess()) {
        closeWith(ch, "cannot send " + frame.getClass().getSimpleName() + ": "
            + describe(f.cause()));
      }
    });
  }

  /** Closes {@code ch}, remembering the first reason given for it. */
  private static void closeWith(Channel ch, String reason) {
    ch.attr(CLOSE_REASON).setIfAbsent(reason);
    ch.close();
  }

  private void channelClosed(Channel ch, ChannelFuture connecting, InetSocketAddress remote) {
    if (ch != channel) {
      return;
    }
    if (connecting.cause() != null) { // done by now: closing fails a pending connect first
      ch.attr(CLOSE_REASON).setIfAbsent(
          "cannot connect to " + format(remote) + ": " + describe(connecting.cause()));
    }
    channel = null;
    cancel(attemptTimer);
    cancel(heartbeatTimer);
    cancel(livenessTimer);
    attemptTimer = heartbeatTimer = livenessTimer = null;
    String reason = Objects.requireNonNullElse(ch.attr(CLOSE_REASON).get(),
        "connection closed by the watchdog or a malformed frame");
    boolean wasUp;
    synchronized (lock) {
      wasUp = linkUp;
      linkUp = false;
      connected = false;
      lastError = reason;
      if (wasUp) {
        linkDowns++;
      }
    }
    if (wasUp) {
      if (closing) {
        LOG.info("Heartbeat link to {} closed: {}", target(), reason);
      } else {
        LOG.warn("Heartbeat link to {} down: {}", target(), reason);
      }
      listener.linkDown(reason);
    } else if (!closing) {
      logFailure(reason);
    }
    scheduleReconnect();
  }

  private void shutdown(String reason, Promise<Void> done) {
    closing = true;
    attempt++;
    cancel(reconnectTimer);
    cancel(attemptTimer);
    reconnectTimer = attemptTimer = null;
    Channel ch = channel;
    if (ch == null) {
      closeResolver();
      done.trySuccess(null);
      return;
    }
    // Registered after channelClosed's listener, so the listener has seen linkDown by then.
    ch.closeFuture().addListener(f -> {
      closeResolver();
      done.trySuccess(null);
    });
    ch.attr(CLOSE_REASON).setIfAbsent("closed by this client: " + reason);
    if (ch.isActive()) {
      ch.writeAndFlush(new Goodbye(reason)).addListener(f -> ch.close());
    } else {
      ch.close();
    }
  }

  private void closeResolver() {
    if (resolver != null) {
      resolver.close();
      resolver = null;
    }
  }

  private boolean isLinkUp() {
    synchronized (lock) {
      return linkUp;
    }
  }

  private InetSocketAddress remoteAddress() {
    synchronized (lock) {
      return remoteAddress;
    }
  }

  private static void cancel(ScheduledFuture<?> timer) {
    if (timer != null) {
      timer.cancel(false);
    }
  }

  private static String format(InetSocketAddress address) {
    return address == null ? "?" : NetUtil.toSocketAddressString(address);
  }

  private static String describe(Throwable cause) {
    if (cause == null) {
      return "unknown cause";
    }
    String message = cause.getMessage();
    if (message == null) {
      message = cause.getClass().getSimpleName();
    }
    return cause instanceof SSLHandshakeException ? "TLS handshake failed: " + message : message;
  }

  /** Passes frames of one connection to the client, on the event loop. */
  private final class ClientHandler extends SimpleChannelInboundHandler<Frame> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
      frameReceived(ctx.channel(), frame);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      closeWith(ctx.channel(), "I/O error: " + describe(cause));
    }
  }

  /** Settings of a {@link HeartbeatClient}; only the group, host and port are required. */
  public static final class Builder {
    private final EventLoopGroup group;
    private final String host;
    private final int port;
    private HeartbeatTiming timing = HeartbeatTiming.DEFAULTS;
    private String peerName = defaultPeerName();
    private HeartbeatListener listener = new HeartbeatListener() { };
    private HostsFileEntriesResolver hostsFile;
    private SslContext sslContext;

    private Builder(EventLoopGroup group, String host, int port) {
      this.group = Objects.requireNonNull(group, "group");
      this.host = Objects.requireNonNull(host, "host");
      if (host.isBlank()) {
        throw new IllegalArgumentException("watchdog host is empty");
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("watchdog port must be 1..65535, got " + port);
      }
      this.port = port;
    }

    /** Heartbeat durations; default {@link HeartbeatTiming#DEFAULTS}. */
    public Builder timing(HeartbeatTiming timing) {
      this.timing = Objects.requireNonNull(timing, "timing");
      return this;
    }

    /** Name sent in the Hello, for the watchdog's logs; default: this machine's host name. */
    public Builder peerName(String peerName) {
      this.peerName = Objects.requireNonNull(peerName, "peerName");
      return this;
    }

    /** Receives link events on the event loop; default: none. */
    public Builder listener(HeartbeatListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** Replaces /etc/hosts lookups before DNS (static pins, tests); default: /etc/hosts. */
    public Builder hostsFile(HostsFileEntriesResolver hostsFile) {
      this.hostsFile = hostsFile;
      return this;
    }

    /**
     * Runs the link over TLS with this client context (for mutual authentication, built with the
     * client's key and certificate and the CA that signed the watchdogs'). The TLS handshake
     * counts towards the connect timeout. Default: plain TCP.
     */
    public Builder sslContext(SslContext sslContext) {
      if (sslContext != null && !sslContext.isClient()) {
        throw new IllegalArgumentException("a server SslContext cannot open heartbeat links");
      }
      this.sslContext = sslContext;
      return this;
    }

    /** A client that does nothing until {@link HeartbeatClient#start()}. */
    public HeartbeatClient build() {
      return new HeartbeatClient(this);
    }

    private static String defaultPeerName() {
      String name = System.getenv("HOSTNAME");
      return name == null || name.isBlank() ? "unknown" : name;
    }
  }
}
