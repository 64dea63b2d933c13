package io.pgconmgr.protocol.conf;

/**
 * A client port of conmgr and the instances it routes to. The default listener is
 * {@code port} with {@code target_session_attrs}; more come from {@code listener_port<N>}.
 */
public record Listener(int port, TargetSessionAttrs target) {
}
