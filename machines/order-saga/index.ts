export * from './types';
export * from './status';
export * from './machine';
export * from './decide';
export * from './schemas';
export * from './stuck';
