import type { JsMsg } from '@nats-io/jetstream';
import type { Envelope } from '../envelope';
import { deterministicId } from '../ids';
import type { Category } from '../names';
import { decode, type AnyMessageSet } from '../registry';
import { backoffMs, consumeBySubject, isUnavailable } from './durable';
import type { Logger } from './logger';
import type { Messaging } from './messaging';
import { park } from './parking';
import { publishCommand } from './publish';

/** A command a reaction issues; its id is derived from the event, so re-reacting issues the same command. */
export interface Reaction {
  commands: AnyMessageSet;
  command: Omit<Envelope, 'id'>;
}

export interface ReactorOptions {
  messaging: Messaging;
  /** Durable name (before namespacing), e.g. `estimation-reactor-projects`. */
  name: string;
  source: AnyMessageSet;
  logger: Logger;
  /** Pure: the commands an event calls for (often none). */
  react(event: Envelope): Reaction[];
  maxDeliver?: number;
  /** Source entities reacted to at once (each entity's events in order). */
  concurrency?: number;
}

/**
 * Lets a component follow another category's events and issue commands. The command id is
 * `uuidv5(event id, reactor/index)`: a crash between publishing the command and acking the event
 * re-publishes the same id, which the dedup window and the target entity's processed set absorb.
 */
export function buildReactor(opts: ReactorOptions) {
  const { messaging, logger } = opts;
  const stream = messaging.names.stream('EVENTS');
  const durable = messaging.names.durable(opts.name);
  const category: Category = opts.source.category;
  const maxDeliver = opts.maxDeliver ?? 5;
  // one entity's events in order (its commands are published in that order), entities concurrently
  const consumer = consumeBySubject(messaging, {
    stream,
    durable,
    filter: messaging.names.categoryEvents(category),
    maxMessages: 256,
    concurrency: opts.concurrency ?? 64,
    handle: process,
    logger,
  });

  async function process(msg: JsMsg) {
    let event: Envelope;
    try {
      event = opts.source.parse(decode(msg.data));
    } catch (err) {
      // other categories' events share the stream but never this filter; a bad one is parked
      await park(messaging, opts.name, msg, err);
      return msg.ack();
    }
    try {
      const reactions = opts.react(event);
      for (const [i, r] of reactions.entries()) {
        const id = deterministicId(event.id, `${opts.name}:${i}`);
        await publishCommand(messaging, r.commands, { ...r.command, id });
      }
      msg.ack();
    } catch (err) {
      if (msg.info.deliveryCount >= maxDeliver && !isUnavailable(err)) {
        await park(messaging, opts.name, msg, err);
        logger.error({ err, seq: msg.seq }, 'reaction parked');
        return msg.ack();
      }
      logger.warn({ err, seq: msg.seq }, 'reaction failed; will retry');
      msg.nak(backoffMs(msg.info.deliveryCount));
    }
  }

  return {
    durable,
    get bound() {
      return consumer.bound;
    },
    start: () => consumer.start(),
    stop: () => consumer.stop(),
  };
}
