export * from './app';
export * from './auth';
export * from './gateway';
export * from './problem';
export * from './listen';
export * from './openapi';
export * from './context-api';
