export * from './given';
export * from './servers';
