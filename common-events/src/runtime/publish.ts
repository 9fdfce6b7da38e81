import type { Envelope } from '../envelope';
import { encode, type AnyMessageSet } from '../registry';
import type { Messaging } from './messaging';

export interface Published {
  seq: number;
  /** true when the server had already stored this message id: a resend is a no-op */
  duplicate: boolean;
}

/**
 * Validates a command against its category's contract and writes it to `<category>.command.<entityId>`
 * with `Nats-Msg-Id` = command id, so a resend within the dedup window stores nothing new.
 */
export async function publishCommand(
  messaging: Messaging,
  commands: AnyMessageSet,
  command: Envelope,
  opts: { maxBytes?: number } = {},
): Promise<Published> {
  const valid = commands.parse(command);
  const subject = messaging.names.command(commands.category, commands.entityId(valid.data));
  const ack = await messaging.publisher.publish(subject, encode(valid, opts.maxBytes), { msgId: valid.id });
  return { seq: ack.seq, duplicate: ack.duplicate };
}
