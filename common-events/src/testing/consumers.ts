import type { Names } from '../names';
import type { Messaging } from '../runtime/messaging';

/** Durables on COMMANDS and EVENTS with work left, as `name pending/ackPending`: none when the system is idle. */
export async function consumersBusy(sys: { names: Names; messaging: Messaging }): Promise<string[]> {
  const busy: string[] = [];
  for (const base of ['COMMANDS', 'EVENTS'] as const) {
    const stream = sys.names.stream(base);
    for await (const c of sys.messaging.jsm.consumers.list(stream)) {
      if (!c.config.durable_name) continue;
      if (c.num_pending > 0 || c.num_ack_pending > 0)
        busy.push(`${c.name} ${c.num_pending}/${c.num_ack_pending}`);
    }
  }
  return busy;
}
