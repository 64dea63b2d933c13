package io.pgconmgr.conmgr;

import io.netty.channel.EventLoopGroup;
import io.pgconmgr.conmgr.ops.ConmgrMetrics;
import io.pgconmgr.conmgr.routing.InstanceTable;
import io.pgconmgr.protocol.conf.ConmgrConf;

/** One heartbeat client per instance, feeding the instance table. */
final class HeartbeatLinks implements AutoCloseable {

  static HeartbeatLinks start(ConmgrConf conf, InstanceTable table, ConmgrMetrics metrics, EventLoopGroup group) {
    throw new UnsupportedOperationException("heartbeat client not wired yet");
  }

  /** Says goodbye to every watchdog and closes the links. */
  @Override
  public void close() {
  }
}
