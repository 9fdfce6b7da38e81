export { AGGREGATORS } from './aggregators';
export { connectCli, type CliContext } from './context';
export {
  describe,
  discard,
  eventAdvice,
  listParkedEntries,
  replayParked,
  showParked,
  type ParkedEntry,
  type ReplayParkedResult,
} from './parked';
export {
  dropOldSchema,
  replayAggregator,
  ReplayAborted,
  timestampTag,
  type ReplayOptions,
  type ReplayProgress,
  type ReplayResult,
} from './replay';
export { collectStatus, formatStatus, type Status } from './status';
export { run, USAGE } from './main';
