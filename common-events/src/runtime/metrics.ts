import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AggregatorHooks } from './aggregator';
import type { ComponentHooks } from './component';

/**
 * The Prometheus metrics of one service process: commands processed/rejected, concurrency retries,
 * parked messages, events folded, batch sizes, consumer lag and command-to-view latency.
 */
export function createRuntimeMetrics(service: string, registry = new Registry()) {
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const commands = new Counter({
    name: 'devpie_commands_total',
    help: 'Commands decided, by type and outcome (accepted, rejected, duplicate)',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
  const commandSeconds = new Histogram({
    name: 'devpie_command_seconds',
    help: 'Time to load, decide and append one command',
    labelNames: ['type'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const conflicts = new Counter({
    name: 'devpie_concurrency_retries_total',
    help: 'Appends retried after an optimistic-concurrency conflict',
    labelNames: ['type'],
    registers: [registry],
  });
  const parked = new Counter({
    name: 'devpie_parked_total',
    help: 'Messages parked after failing validation or their retries',
    labelNames: ['consumer', 'reason'],
    registers: [registry],
  });
  const folded = new Counter({
    name: 'devpie_events_folded_total',
    help: 'Events folded into views',
    labelNames: ['aggregator'],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'devpie_batch_size',
    help: 'Events per aggregator transaction',
    labelNames: ['aggregator'],
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'devpie_consumer_lag',
    help: 'Messages waiting for an aggregator after its last batch',
    labelNames: ['aggregator'],
    registers: [registry],
  });
  const commandToView = new Histogram({
    name: 'devpie_command_to_view_seconds',
    help: 'From a command being sent to its event being committed in a view',
    labelNames: ['aggregator'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });

  return {
    registry,
    component(consumer: string): ComponentHooks {
      return {
        onOutcome: (type, outcome, ms) => {
          commands.inc({ type, outcome });
          commandSeconds.observe({ type }, ms / 1000);
        },
        onConflict: (type) => conflicts.inc({ type }),
        onParked: (reason) => parked.inc({ consumer, reason }),
      };
    },
    aggregator(aggregator: string): AggregatorHooks {
      return {
        onBatch: ({ size, pending, commandToViewMs }) => {
          folded.inc({ aggregator }, size);
          batchSize.observe({ aggregator }, size);
          lag.set({ aggregator }, pending);
          for (const ms of commandToViewMs) commandToView.observe({ aggregator }, ms / 1000);
        },
        onParked: (reason) => parked.inc({ consumer: `${aggregator}-aggregator`, reason }),
      };
    },
  };
}
export type RuntimeMetrics = ReturnType<typeof createRuntimeMetrics>;
