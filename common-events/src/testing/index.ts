export * from './given';
export * from './servers';
export * from './consumers';
