export * from './definition';
export * from './jobs';
export * from './schema';
export * from './start';
export * from './main';
export * from './migrate';
