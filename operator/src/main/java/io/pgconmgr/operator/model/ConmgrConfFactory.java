package io.pgconmgr.operator.model;

import io.pgconmgr.operator.crd.ConmgrSpec;
import io.pgconmgr.operator.crd.InstanceSetSpec;
import io.pgconmgr.operator.crd.ListenerSpec;
import io.pgconmgr.protocol.conf.ConmgrConf;
import io.pgconmgr.protocol.conf.Listener;
import java.util.List;
import java.util.stream.Collectors;

/** Builds the conmgr.conf model from an InstanceSet spec and its resolved instances. */
public final class ConmgrConfFactory {

  private ConmgrConfFactory() {
  }

  public static ConmgrConf build(InstanceSetSpec spec, List<SetInstance> instances) {
    ConmgrSpec c = spec.getConmgr();
    return new ConmgrConf(
        c.getPort(),
        c.getTargetSessionAttrs().toConf(),
        c.getListeners().stream().map(ConmgrConfFactory::listener).toList(),
        c.getListenAddresses(),
        instances.stream().map(SetInstance::toBackend).toList(),
        c.getHeartbeatInterval(),
        c.getHeartbeatTimeout(),
        c.getHeartbeatConnectInterval(),
        c.getHeartbeatConnectTimeout(),
        c.getLogDestination().stream().map(d -> d.toConf()).collect(Collectors.toSet()),
        c.getSyslogFacility(),
        c.getSyslogIdent(),
        c.getLogMinMessages(),
        c.getMaxConnections(),
        c.getHttpPort(),
        c.getRouteWaitTimeoutMs());
  }

  private static Listener listener(ListenerSpec l) {
    return new Listener(l.getPort(), l.getTargetSessionAttrs().toConf());
  }
}
