/**
 * The broker names of this service's topics and groups in a namespace (rocketmq.namespace).
 *
 * RocketMQ's own namespace does not isolate through the Apache proxy (5.3.3): a message sent by a client
 * in namespace `a` is stored under the plain topic and reaches the plain groups' consumers; and a name
 * written `a%topic` is cut at `%` when a message is handed out, so its acknowledgement fails and it comes
 * back. So a namespace here is a name prefix, `<ns>_<name>`, and the client is given none. A dead-letter
 * topic keeps its `%DLQ%` head: `%DLQ%<ns>_<group>` (the broker's DLQ of the group `<ns>_<group>`).
 * deploy/rocketmq/rocketmq.sh creates the catalog under the same names.
 */
export function brokerNames(namespace: string) {
  const prefix = namespace ? `${namespace}_` : '';
  const DLQ = '%DLQ%';
  return {
    /** The broker's name of a topic or group. */
    wrap(name: string): string {
      if (!prefix) return name;
      return name.startsWith(DLQ) ? `${DLQ}${prefix}${name.slice(DLQ.length)}` : `${prefix}${name}`;
    },
    /** The catalog's name of a topic as the broker gives it. */
    unwrap(name: string): string {
      if (!prefix) return name;
      if (name.startsWith(`${DLQ}${prefix}`)) return `${DLQ}${name.slice(DLQ.length + prefix.length)}`;
      return name.startsWith(prefix) ? name.slice(prefix.length) : name;
    },
  };
}
